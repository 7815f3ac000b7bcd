"""Metric 3, HTTP checks end to end: a real daemon against local nginx vs blackbox_exporter.

checkrunner: ``http`` checks (GET the status JSON, default expectations) grouped in monitors
(a monitor's checks fire together), at two concurrencies:

* ~10 in flight: one monitor of 10 checks every 100 ms (about 100 checks/s);
* ~1,000 in flight: 10 monitors of 100 checks every 500 ms (2,000 checks/s offered, more than
  the 1,200/s target, so the figure shows what the daemon sustains).

Per run: start the daemon, warm up, then over ``measure`` seconds take its CPU from /proc and
count the results it stored with ``started_at`` in the window (scheduled, run, evaluated,
stored: end to end). CPU per check = CPU seconds / results; throughput = results / seconds.

Baseline, same run, same nginx: wrk driving blackbox_exporter's ``/probe`` with 10 and 1,000
connections (peer-bench's approach), blackbox's CPU from /proc, probes = wrk's requests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from configs import grouped_monitors, write_config
from procs import BenchError, cpu_seconds, measure_window, progress
from readings import outcomes, results_between
from report import Row, Target, median
from servers import Servers, running


@dataclass(frozen=True, slots=True)
class Level:
    label: str
    checks: int
    per_monitor: int
    every: str
    #: wrk connections (= probes in flight at blackbox) and threads.
    connections: int
    threads: int


LEVELS = (
    Level("10", 10, 10, "100ms", 10, 1),
    Level("1,000", 1000, 100, "500ms", 1000, 2),
)


@dataclass(frozen=True, slots=True)
class Params:
    warmup_s: float = 3.0
    measure_s: float = 6.0
    runs: int = 2


def daemon_run(folder: Path, target: str, level: Level, params: Params, run: int) -> dict[str, float]:
    name = f"http-{level.checks}-{run}"
    checks = {f"h{i}": {"type": "http", "url": target} for i in range(level.checks)}
    monitors = grouped_monitors(list(checks), level.per_monitor, level.every)
    db = folder / f"{name}.db"
    # The engine's limits, not nginx, must bound what is in flight: as many as the level.
    limits = {"concurrency": max(level.checks, 100), "per_host": level.checks}
    config = write_config(
        folder, name, database=f"sqlite:///{db}", checks=checks, monitors=monitors, limits=limits
    )
    # Runs started in the window need a moment to reach the store before the stop.
    window = measure_window(config, params.warmup_s, params.measure_s, settle_s=1.0)
    begin, end = window.begin, window.end
    stored = results_between(db, begin, end)
    skipped = outcomes(db, begin, end)["skipped"]
    return {
        "results_per_s": stored / (end - begin),
        "cpu_ms_per_check": 1000 * window.cpu_s / stored if stored else float("nan"),
        "cpu_pct": 100 * window.cpu_s / (end - begin),
        "skipped": float(skipped),
    }


def blackbox_run(servers: Servers, level: Level, seconds: float) -> dict[str, float] | None:
    wrk = shutil.which("wrk")
    if wrk is None or servers.probe is None or servers.blackbox_pid is None:
        return None
    argv = [wrk, f"-t{level.threads}", f"-c{level.connections}", f"-d{seconds:g}s", "--timeout", "5s"]
    cpu0 = cpu_seconds(servers.blackbox_pid)
    done = subprocess.run(
        [*argv, servers.probe], capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    cpu1 = cpu_seconds(servers.blackbox_pid)
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", done.stdout)
    if done.returncode != 0 or total is None:
        raise BenchError(f"wrk failed: {(done.stderr or done.stdout).strip()[:200]}")
    probes = int(total.group(1))
    wall = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return {
        "probes_per_s": probes / wall,
        "cpu_ms_per_probe": 1000 * (cpu1 - cpu0) / probes if probes else float("nan"),
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


def measure(folder: Path, params: Params) -> list[Row]:
    ours: dict[str, list[dict[str, float]]] = {level.label: [] for level in LEVELS}
    base: dict[str, list[dict[str, float]]] = {level.label: [] for level in LEVELS}
    with running(folder) as servers:
        for run in range(params.runs):
            for level in LEVELS:
                progress(f"http {level.label} in flight run {run + 1}/{params.runs}: daemon")
                ours[level.label].append(daemon_run(folder, servers.target, level, params, run))
                progress(f"http {level.label} in flight run {run + 1}/{params.runs}: blackbox_exporter")
                probe = blackbox_run(servers, level, params.measure_s)
                if probe is not None:
                    base[level.label].append(probe)

    def med(results: list[dict[str, float]], key: str) -> float | None:
        return median(result[key] for result in results if result[key] == result[key])  # NaN: none

    low, high = (level.label for level in LEVELS)
    missing = "" if base[low] else "blackbox_exporter or wrk not installed: no baseline. "
    per_probe = Target(1.0, on="ratio", text="<= 1.0x blackbox")
    return [
        Row(
            f"HTTP CPU per check, ~{low} in flight",
            med(ours[low], "cpu_ms_per_check"),
            med(base[low], "cpu_ms_per_probe"),
            "ms",
            per_probe,
            note=missing + "end to end (scheduled, run, evaluated, stored), daemon CPU from /proc / results "
            "stored; baseline: blackbox_exporter CPU / probe with wrk at the same concurrency, same nginx",
        ),
        Row(
            f"HTTP CPU per check, ~{high} in flight",
            med(ours[high], "cpu_ms_per_check"),
            med(base[high], "cpu_ms_per_probe"),
            "ms",
            per_probe,
        ),
        Row(
            f"HTTP CPU per check, {high} vs {low} in flight",
            med(ours[high], "cpu_ms_per_check"),
            med(ours[low], "cpu_ms_per_check"),
            "ms",
            Target(1.25, on="ratio", text="<= 1.25x"),
            note=f"baseline column = checkrunner itself at ~{low} in flight (no collapse with concurrency)",
        ),
        Row(
            f"HTTP throughput, ~{high} in flight",
            med(ours[high], "results_per_s"),
            med(base[high], "probes_per_s"),
            "checks/s",
            Target(1200, at_most=False, text=">= 1,200 checks/s"),
            note="checkrunner offered 2,000 checks/s (10 monitors x 100 checks every 500 ms); results "
            "stored per second; baseline: blackbox probes/s (wrk, 1,000 connections)",
        ),
        Row(f"HTTP fires skipped (overlap), ~{high} in flight", med(ours[high], "skipped"), None, "/window"),
        Row(f"HTTP daemon CPU, ~{high} in flight", med(ours[high], "cpu_pct"), None, "%"),
    ]
