"""Log lines: key=value text or JSON lines, always through the secret redactor."""

from __future__ import annotations

import json
import logging

from checkrunner.core.redact import Redactor
from checkrunner.daemon.logs import RedactingFormatter


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("checkrunner.engine", logging.INFO, __file__, 1, message, args, None)


def test_text_lines_are_redacted() -> None:
    redactor = Redactor(["hunter2-secret"])
    formatter = RedactingFormatter(lambda: redactor, json_lines=False)
    line = formatter.format(record("run check=%s summary=%s", "api", "token hunter2-secret in body"))
    assert line.endswith("INFO checkrunner.engine run check=api summary=token **** in body")


def test_json_lines_are_one_object_per_line_and_redacted() -> None:
    redactor = Redactor(["hunter2-secret"])
    formatter = RedactingFormatter(lambda: redactor, json_lines=True)
    line = formatter.format(record("url=%s", "json://u:hunter2-secret@h"))
    payload = json.loads(line)
    assert "\n" not in line
    assert payload["level"] == "info" and payload["logger"] == "checkrunner.engine"
    assert payload["message"] == "url=json://u:****@h"
    assert payload["time"].endswith("+00:00")


def test_the_redactor_in_force_is_read_at_each_line() -> None:
    current = [Redactor()]
    formatter = RedactingFormatter(lambda: current[0], json_lines=False)
    assert "abcd-new-secret" in formatter.format(record("abcd-new-secret"))
    current[0] = Redactor(["abcd-new-secret"])  # a reload registered a new secret
    assert "abcd-new-secret" not in formatter.format(record("abcd-new-secret"))
