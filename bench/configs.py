"""schedules.yaml files for the benchmark daemons, written into a temporary folder.

Every config uses the UTC timezone, a database of its own, and ``checks_dir:`` pointing at
``bench/plugins`` (the ``noop`` check type). Mappings are written as JSON, which is YAML's
flow style, so 10,000 monitors stay one line each and quick to write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

PLUGINS = Path(__file__).resolve().parent / "plugins"

Check = dict[str, Any]


def write_config(
    folder: Path,
    name: str,
    *,
    database: str,
    checks: Mapping[str, Check],
    monitors: Mapping[str, Mapping[str, Any]],
    limits: Mapping[str, int] | None = None,
) -> Path:
    """Write ``folder/name.yaml``; returns its path."""
    lines = [f"limits: {json.dumps(dict(limits))}"] if limits else []
    lines += [
        "timezone: UTC",
        f"database: {json.dumps(database)}",
        f"checks_dir: {json.dumps(str(PLUGINS))}",
        # No channel: the benchmarks measure checking, not notifying.
        "alerting: {default: []}",
        # Any free port: several daemons of one section run side by side.
        'server: {listen: "127.0.0.1:0"}',
    ]
    for section, entries in (("checks", checks), ("monitors", monitors)):
        lines.append(f"{section}:" if entries else f"{section}: {{}}")
        lines += [f"  {name}: {json.dumps(spec)}" for name, spec in entries.items()]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def every_ms(ms: float) -> str:
    """A duration in milliseconds as schedules.yaml spells it (``9500.1ms``)."""
    text = f"{ms:.3f}".rstrip("0").rstrip(".")  # never an exponent: 3600000ms, not 3.6e+06ms
    return f"{text}ms"


def one_check_monitors(
    count: int, check: Callable[[int], Check], period_ms: Callable[[int], float]
) -> tuple[dict[str, Check], dict[str, dict[str, Any]]]:
    """``count`` monitors ``m<i>`` with one check ``c<i>`` each, every ``period_ms(i)``."""
    checks = {f"c{i}": check(i) for i in range(count)}
    monitors = {
        f"m{i}": {"checks": [f"c{i}"], "cadence": [{"every": every_ms(period_ms(i))}]} for i in range(count)
    }
    return checks, monitors


def grouped_monitors(checks: Sequence[str], per_monitor: int, every: str) -> dict[str, dict[str, Any]]:
    """Monitors ``g<k>`` of ``per_monitor`` checks each (a monitor's checks fire together)."""
    return {
        f"g{k}": {"checks": list(checks[start : start + per_monitor]), "cadence": [{"every": every}]}
        for k, start in enumerate(range(0, len(checks), per_monitor))
    }


def noop_check(_index: int) -> Check:
    return {"type": "noop"}
