"""Text and JSON rendering of results for the terminal (no business logic)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from checkrunner.core.result import CheckResult
from checkrunner.core.status import MARKS


def local_iso(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).isoformat(timespec="seconds")


def result_json(result: CheckResult, tz: tzinfo) -> dict[str, Any]:
    data = result.to_json()
    data["started_at"] = local_iso(result.started_at, tz)
    return data


def result_line(result: CheckResult, tz: tzinfo, *, width: int = 0) -> str:
    value = "" if result.value is None else f" value={result.value:g}"
    when = result.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"{MARKS[result.status.label]:<4}  {result.check:<{width}}  {when}  "
        f"{result.latency_ms:7.0f} ms{value}  {result.summary}"
    )


def results_table(results: Sequence[CheckResult], tz: tzinfo) -> str:
    width = max((len(r.check) for r in results), default=0)
    return "\n".join(result_line(r, tz, width=width) for r in results)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
