#!/usr/bin/env python3
"""Runbook 003's ``scripts/monitoring_commands.py``, against the demo service (standard library only).

Usage: ``python3 demo/monitoring_commands.py health|delivery|handoff|instances|consistency|report``

Each command reads one endpoint of the service at ``$DEMO_API`` (default http://127.0.0.1:8099)
and prints one human line that starts with ✅, ⚠️ or ❌ (the runbook's scripts grep for ❌) and
holds a machine-readable figure, e.g. ``delivery success rate: 97.3%`` or ``handoff violations:
0``. ``report`` prints every line and a summary. Exit codes follow the Nagios convention that
checkrunner's ``command`` checks map with ``exit_codes``: 0 ok, 1 warning, 2 critical (a rule
broken, or the service not answering), 3 unknown (an answer this script cannot read).

Rules (runbook 003): delivery success >= 95 % (below: warning; below 90 %: critical); handoff
violations and invalid instance patterns must be 0 (else critical, "ROLLBACK IMEDIATO"); state
id consistency 100 % (below: warning; below 99 %: critical); health: healthy / degraded /
anything else = 0 / 1 / 2.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

TIMEOUT_S = 10.0
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
MARK = {OK: "✅", WARNING: "⚠️", CRITICAL: "❌", UNKNOWN: "❓"}
#: Severity order of exit codes: unknown ranks between warning and critical (as in checkrunner).
RANK = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}


class Unreadable(Exception):
    """The service answered something this script cannot interpret (exit 3)."""


class Unreachable(Exception):
    """The service did not answer, or answered an HTTP error (exit 2)."""


def fetch(path: str) -> dict[str, Any]:
    url = os.environ.get("DEMO_API", "http://127.0.0.1:8099").rstrip("/") + "/api/v1" + path
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
            raw = answer.read(1_000_000)
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"{url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise Unreadable(f"{url} did not answer JSON") from None
    if not isinstance(body, dict):
        raise Unreadable(f"{url} answered {type(body).__name__}, not an object")
    return body


def number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unreadable(f"answer has no number {key!r}")
    return float(value)


def delivery() -> tuple[int, str]:
    body = fetch("/monitoring/delivery")
    rate = number(body, "success_rate_percent")
    code = OK if rate >= 95 else WARNING if rate >= 90 else CRITICAL
    done, tried = int(number(body, "delivered")), int(number(body, "attempted"))
    return (
        code,
        f"delivery success rate: {rate:.1f}% ({done}/{tried} delivered in {body.get('window', '?')}; target >= 95%)",
    )


def handoff() -> tuple[int, str]:
    body = fetch("/monitoring/handoff")
    count = int(number(body, "violations"))
    tail = " - ROLLBACK IMEDIATO" if count else ""
    return (
        CRITICAL if count else OK
    ), f"handoff violations: {count} ({int(number(body, 'checked'))} checked){tail}"


def instances() -> tuple[int, str]:
    body = fetch("/monitoring/instances")
    count = int(number(body, "invalid_patterns"))
    tail = " - ROLLBACK IMEDIATO" if count else ""
    checked = int(number(body, "checked"))
    return (CRITICAL if count else OK), f"invalid instance patterns: {count} ({checked} checked){tail}"


def consistency() -> tuple[int, str]:
    body = fetch("/monitoring/consistency")
    rate = number(body, "consistency_percent")
    code = OK if rate >= 100 else WARNING if rate >= 99 else CRITICAL
    mismatched = int(number(body, "mismatched"))
    return (
        code,
        f"state id consistency: {rate:.1f}% ({mismatched} mismatched of {int(number(body, 'checked'))})",
    )


def health() -> tuple[int, str]:
    body = fetch("/health/detailed")
    status = body.get("status")
    if not isinstance(status, str):
        raise Unreadable("answer has no status")
    components = body.get("components") if isinstance(body.get("components"), dict) else {}
    assert isinstance(components, dict)
    up = sum(1 for c in components.values() if isinstance(c, dict) and c.get("status") in ("up", "connected"))
    code = OK if status == "healthy" else WARNING if status == "degraded" else CRITICAL
    return code, f"health: {status} ({up}/{len(components)} components up)"


COMMANDS: dict[str, Callable[[], tuple[int, str]]] = {
    "health": health, "delivery": delivery, "handoff": handoff, "instances": instances, "consistency": consistency,
}  # fmt: skip


def run(name: str) -> tuple[int, str]:
    try:
        return COMMANDS[name]()
    except Unreachable as exc:
        return CRITICAL, f"{name}: {exc}"
    except Unreadable as exc:
        return UNKNOWN, f"{name}: {exc}"


def main(argv: list[str]) -> int:
    names = [*COMMANDS, "report"]
    if len(argv) != 1 or argv[0] not in names:
        print(f"usage: monitoring_commands.py {{{','.join(names)}}}", file=sys.stderr)
        return UNKNOWN
    if argv[0] != "report":
        code, line = run(argv[0])
        print(f"{MARK[code]} {line}")
        return code
    results = [run(name) for name in COMMANDS]
    for code, line in results:
        print(f"{MARK[code]} {line}")
    worst = max((code for code, _ in results), key=RANK.__getitem__)
    problems = sum(1 for code, _ in results if code != OK)
    print(f"{MARK[worst]} report: {len(results) - problems} ok, {problems} problem(s)")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
