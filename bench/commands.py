"""Metric 4, command checks: the daemon's own CPU per spawned ``/bin/true``.

checkrunner: one monitor of 10 ``command`` checks (``run: [/bin/true]``) every 100 ms, about
100 spawns/s with up to 10 in flight. The daemon's CPU comes from /proc/PID/stat (utime +
stime: its threads, not its children), so it is daemon-side only: fork/exec, pipes, reaping,
and the rest of the run (scheduling, evaluation, storage). The same daemon shape with ``noop``
checks is measured too; the difference is what spawning adds to a check.

Baseline, same run: ``subprocess_bare.py``, bare asyncio spawning ``/bin/true`` at concurrency
10 (pipes and a new session, as the command check does), parent CPU per spawn.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configs import grouped_monitors, noop_check, write_config
from procs import BenchError, measure_window, progress, python_env
from readings import results_between
from report import Row, Target, median

HERE = Path(__file__).resolve().parent
CHECKS = 10
EVERY = "100ms"


@dataclass(frozen=True, slots=True)
class Params:
    warmup_s: float = 2.0
    measure_s: float = 4.0
    runs: int = 2


def daemon_run(folder: Path, kind: str, params: Params, run: int) -> float | None:
    """Daemon CPU ms per stored result of ``kind`` (command or noop) checks."""
    name = f"{kind}-{run}"
    check: dict[str, Any] = {"type": "command", "run": ["/bin/true"]} if kind == "command" else noop_check(0)
    checks = {f"x{i}": check for i in range(CHECKS)}
    db = folder / f"{name}.db"
    monitors = grouped_monitors(list(checks), CHECKS, EVERY)
    config = write_config(folder, name, database=f"sqlite:///{db}", checks=checks, monitors=monitors)
    # Runs started in the window need a moment to reach the store before the stop.
    window = measure_window(config, params.warmup_s, params.measure_s, settle_s=0.5)
    begin, end = window.begin, window.end
    stored = results_between(db, begin, end)
    return 1000 * window.cpu_s / stored if stored else None


def bare_run(spawns: int) -> float:
    argv = [sys.executable, str(HERE / "subprocess_bare.py"), "--n", str(spawns), "--c", str(CHECKS)]
    done = subprocess.run(argv, capture_output=True, text=True, env=python_env(), timeout=180, check=False)
    if done.returncode != 0:
        raise BenchError(f"subprocess_bare.py failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["cpu_ms_per_spawn"])


def measure(folder: Path, params: Params) -> list[Row]:
    command: list[float | None] = []
    noop: list[float | None] = []
    bare: list[float | None] = []
    for run in range(params.runs):
        progress(f"command checks run {run + 1}/{params.runs}")
        command.append(daemon_run(folder, "command", params, run))
        noop.append(daemon_run(folder, "noop", params, run))
        bare.append(bare_run(500))
    per_spawn, per_noop = median(command), median(noop)
    added = per_spawn - per_noop if per_spawn is not None and per_noop is not None else None
    return [
        Row(
            "command check: daemon CPU per spawn (end to end)",
            per_spawn,
            median(bare),
            "ms",
            Target(0.5, text="<= 0.5 ms"),
            note=f"/bin/true, {CHECKS} checks in one monitor every {EVERY}; daemon utime+stime / results "
            "stored (children excluded); baseline: bare asyncio create_subprocess_exec, parent CPU/spawn",
        ),
        Row("command check: of which spawning (minus a noop check)", added, median(bare), "ms"),
    ]
