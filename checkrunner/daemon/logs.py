"""Logging for the daemon: one line per event, ``key=value`` fields, text or JSON lines, and
every line passed through the current secret redactor."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime

Redact = Callable[[str], str]


class RedactingFormatter(logging.Formatter):
    def __init__(self, redact: Callable[[], Redact], json_lines: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self._redact = redact
        self._json = json_lines

    def format(self, record: logging.LogRecord) -> str:
        redact = self._redact()
        if self._json:
            payload = {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": redact(record.getMessage()),
            }
            if record.exc_info:
                payload["error"] = redact(self.formatException(record.exc_info).splitlines()[-1])
            return json.dumps(payload, ensure_ascii=False)
        return redact(super().format(record))


def configure(level: str, json_lines: bool, redact: Callable[[], Redact]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(redact, json_lines))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    # APScheduler logs every wake-up at INFO; keep it to warnings.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
