"""Metric 5, idle: the daemon's CPU with 100 hourly checks and nothing due.

checkrunner: 100 one-check ``noop`` monitors ``every: 1h``; after start-up settles, its CPU
over ``seconds`` from /proc (what a quiet daemon costs: timers, the config-file watcher,
keep-alives). Baseline, measured at the same time in its own process (both are idle, so
they do not compete): bare APScheduler with 100 hourly jobs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from configs import noop_check, one_check_monitors, write_config
from procs import BenchError, Daemon, progress, python_env, stop_pid
from report import Row, Target

HERE = Path(__file__).resolve().parent
CHECKS = 100


def measure(folder: Path, seconds: float) -> list[Row]:
    progress(f"idle: {CHECKS} hourly checks for {seconds:g} s")
    checks, monitors = one_check_monitors(CHECKS, noop_check, lambda i: 3_600_000)
    db = folder / "idle.db"
    config = write_config(folder, "idle", database=f"sqlite:///{db}", checks=checks, monitors=monitors)
    argv = [sys.executable, str(HERE / "apscheduler_bare.py"), "--jobs", str(CHECKS), "--interval", "3600"]
    argv += ["--warmup", "2", "--measure", f"{seconds:g}"]
    with Daemon(config) as daemon:
        daemon.wait_started(timeout=60)
        bare = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=python_env())
        try:
            time.sleep(2.0)  # start-up work (migrations, first timers) is not idling
            cpu0, wall0 = daemon.cpu(), time.monotonic()
            time.sleep(seconds)
            cpu1, wall1 = daemon.cpu(), time.monotonic()
            out, err = bare.communicate(timeout=seconds + 60)
        finally:
            stop_pid(bare, timeout=5)
    if bare.returncode != 0:
        raise BenchError(f"apscheduler_bare.py failed: {err.decode(errors='replace').strip()[-200:]}")
    baseline: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return [
        Row(
            f"idle CPU, {CHECKS} hourly checks",
            100 * (cpu1 - cpu0) / (wall1 - wall0),
            float(baseline["cpu_pct"]),
            "%",
            Target(1.0, text="< 1 %"),
            note=f"over {seconds:g} s; baseline: bare APScheduler with {CHECKS} hourly jobs, measured at the same time",
        )
    ]
