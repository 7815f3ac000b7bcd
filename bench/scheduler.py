"""Metric 1, the scheduler: N one-check ``noop`` monitors in a real daemon vs bare APScheduler.

Two loads, each measured ``runs`` times in fresh processes (medians are reported):

* **spread**: monitor i fires every P·(0.95 + 0.1·i/N) (P = 10 s in the full run), so the
  fire times are spread over the period. checkrunner aligns every cadence to midnight, so
  monitors with the *same* ``every`` always share their fire instants; different periods
  around P are the only way a config can spread them. The average rate is N/P fires/s.
* **herd**: every monitor ``every: P``: all N would fire at the same instant every P seconds;
  the daemon spreads such a herd (more than 50 monitors with one cadence) by a stable offset
  per monitor within min(P, 60 s) (scheduling/herds.py). Bare APScheduler gets the herd as is.

Per run: start the daemon, wait for ``started``, let ``warmup`` seconds pass, measure
``measure`` seconds (CPU from /proc, RSS at the end), wait until every fire scheduled in the
window is accounted for (bounded by ``drain``), stop the daemon, then read start lateness and
fire outcomes from its SQLite store (see readings.py). Fires scheduled in the window that did not
start before the daemon stopped (skipped, missed, still queued) count as "not run"; the queued
ones also count in the lateness with their wait until the stop (so it is then a lower bound).
RSS per job = (RSS with N monitors - RSS of the same daemon with one monitor) / (N - 1).

Baseline: ``apscheduler_bare.py`` with N no-op jobs every P seconds, spread or aligned.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from configs import noop_check, one_check_monitors, write_config
from procs import BenchError, Daemon, progress, python_env, sleep_until
from readings import micros, outcomes, start_times
from report import Row, Target, median, percentile

from checkrunner.scheduling import Cadence, CadenceWindow
from checkrunner.scheduling.herds import spread_herds

HERE = Path(__file__).resolve().parent
_UTC = ZoneInfo("UTC")  # the benchmark configs' timezone


@dataclass(frozen=True, slots=True)
class Params:
    jobs: int = 10_000
    period_s: float = 10.0
    warmup_s: float = 6.0
    measure_s: float = 10.0
    drain_s: float = 2.0
    runs: int = 3

    @property
    def label(self) -> str:
        return f"{self.jobs:,} monitors every {self.period_s:g} s"

    def period_ms(self, index: int, aligned: bool) -> float:
        base = self.period_s * 1000
        return base if aligned else round(base * (0.95 + 0.1 * index / self.jobs), 1)


def due_fires(
    params: Params, aligned: bool, start: float, end: float, prefix: str = "m"
) -> dict[str, list[int]]:
    """Each job's fires in [start, end), computed with checkrunner's own cadences (microseconds),
    herds spread as the daemon spreads them (monitor ``<prefix><i>`` is job i)."""
    low = datetime.fromtimestamp(start, UTC) - timedelta(microseconds=1)
    high = datetime.fromtimestamp(end, UTC) - timedelta(microseconds=1)
    cadences = spread_herds(
        {
            f"{prefix}{index}": Cadence.build(
                [CadenceWindow(None, None, timedelta(milliseconds=params.period_ms(index, aligned)))]
            )
            for index in range(params.jobs)
        }
    )
    by_cadence: dict[Cadence, list[int]] = {}
    due: dict[str, list[int]] = {}
    for name, cadence in cadences.items():
        if cadence not in by_cadence:
            by_cadence[cadence] = [micros(at) for at in cadence.fires_between(low, high, _UTC)]
        due[f"monitor:{name}"] = by_cadence[cadence]
    return due


def daemon_run(folder: Path, params: Params, aligned: bool, run: int) -> dict[str, float | None]:
    name = f"sched-{'herd' if aligned else 'spread'}-{run}"
    checks, monitors = one_check_monitors(params.jobs, noop_check, lambda i: params.period_ms(i, aligned))
    db = folder / f"{name}.db"
    config = write_config(folder, name, database=f"sqlite:///{db}", checks=checks, monitors=monitors)
    # A backlog makes a clean stop slow (grace for claims, then for runs); the figures are in
    # the store already, so after a few seconds the daemon is killed.
    with Daemon(config, stop_timeout=2) as daemon:
        startup = daemon.wait_started(timeout=240)
        begin = time.time() + params.warmup_s
        if aligned:  # open the window on a herd instant
            begin = math.ceil(begin / params.period_s) * params.period_s
        end = begin + params.measure_s
        sleep_until(begin)
        cpu0, wall0 = daemon.cpu(), time.monotonic()
        sleep_until(end)
        cpu1, wall1 = daemon.cpu(), time.monotonic()
        rss = daemon.rss_kb()
        due = due_fires(params, aligned, begin, end)
        expected = sum(len(times) for times in due.values())
        deadline = time.monotonic() + params.drain_s
        while time.monotonic() < deadline:
            settled = outcomes(db, begin, end)
            if settled["ran"] + settled["skipped"] + settled["missed"] >= expected:
                break
            time.sleep(0.5)
        stopped_at = time.time()
    check_of = {f"monitor:m{i}": f"c{i}" for i in range(params.jobs)}
    measured = start_times(db, check_of, due, stopped_at)
    # Fires still waiting at the stop count with their wait so far: a lower bound, but leaving
    # them out would report only the lucky ones of a daemon that cannot keep up.
    late = measured.lateness_ms + measured.waiting_ms
    return {
        "startup_s": startup,
        "p50_ms": percentile(late, 50),
        "p99_ms": percentile(late, 99),
        "p999_ms": percentile(late, 99.9),
        "max_ms": max(late) if late else None,
        "not_run": float(expected - len(measured.lateness_ms)),
        "waiting": float(len(measured.waiting_ms)),
        "dropped": float(measured.not_run),
        "started": float(len(measured.lateness_ms)),
        "expected": float(expected),
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "rss_kb": float(rss),
    }


def reference_rss(folder: Path, params: Params) -> int:
    """RSS of the daemon with one noop monitor, a moment after it started."""
    checks, monitors = one_check_monitors(1, noop_check, lambda i: params.period_s * 1000)
    db = folder / "sched-one.db"
    config = write_config(folder, "sched-one", database=f"sqlite:///{db}", checks=checks, monitors=monitors)
    with Daemon(config) as daemon:
        daemon.wait_started(timeout=60)
        time.sleep(1.0)
        return daemon.rss_kb()


def bare_run(params: Params, aligned: bool) -> dict[str, Any]:
    argv = [sys.executable, str(HERE / "apscheduler_bare.py"), "--jobs", str(params.jobs)]
    argv += ["--interval", str(params.period_s), "--warmup", "3", "--measure", str(params.measure_s)]
    argv += ["--aligned"] if aligned else []
    done = subprocess.run(argv, capture_output=True, text=True, env=python_env(), timeout=300, check=False)
    if done.returncode != 0:
        raise BenchError(f"apscheduler_bare.py failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["not_run"] = float(result["expected"] - result["runs"])
    return result


def lateness_note(runs: list[dict[str, float | None]]) -> str:
    """What the lateness rows of these runs cover, run by run."""
    counts = ", ".join(
        f"{run['started'] or 0:,.0f}/{run['waiting'] or 0:,.0f}/{run['dropped'] or 0:,.0f}" for run in runs
    )
    note = (
        "lateness = results.started_at - fires.scheduled_at, from the daemon's store. Fires of the "
        f"window per run, started/still waiting when the daemon stopped/skipped or missed: {counts}. "
        "Skipped and missed fires have no lateness (see 'not run')"
    )
    if any(run["waiting"] for run in runs):
        note += "; a waiting fire counts with its wait until the stop, so the percentiles are lower bounds"
    if median(run["p50_ms"] for run in runs) is None:
        note += "; no fire started, so there is no lateness figure"
    return note


def lateness_rows(
    title: str,
    detail: str,
    runs: list[dict[str, float | None]],
    bare: list[dict[str, Any]],
    targets: dict[str, Target],
    notes: list[str],
) -> list[Row]:
    """p50, p99, p99.9 and max (medians of the runs); when no fire of the window started in
    any run there is no figure, and the targets count as missed."""
    none_started = median(run["p50_ms"] for run in runs) is None and any(run["expected"] for run in runs)
    rows = []
    for index, (key, label) in enumerate(
        (("p50_ms", "p50"), ("p99_ms", "p99"), ("p999_ms", "p99.9"), ("max_ms", "max"))
    ):
        rows.append(
            Row(
                f"{title} {label}" + (f" ({detail})" if detail and index == 0 else ""),
                median(run[key] for run in runs),
                median(result[key] for result in bare),
                "ms",
                targets.get(key),
                note=notes[index] if index < len(notes) else "",
                failed=none_started,
                missing="none started" if none_started else "not measured",
            )
        )
    return rows


def measure(folder: Path, params: Params) -> list[Row]:
    ours: dict[bool, list[dict[str, float | None]]] = {False: [], True: []}
    bare: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for run in range(params.runs):
        for aligned in (False, True):
            kind = "herd" if aligned else "spread"
            progress(f"scheduler {kind} run {run + 1}/{params.runs}: daemon, {params.label}")
            ours[aligned].append(daemon_run(folder, params, aligned, run))
            progress(f"scheduler {kind} run {run + 1}/{params.runs}: bare APScheduler")
            bare[aligned].append(bare_run(params, aligned))
    reference = reference_rss(folder, params)

    def med(results: list[dict[str, Any]], key: str) -> float | None:
        return median(result[key] for result in results)

    spread, herd = ours[False], ours[True]
    label = f"{params.label}, median of {params.runs}"
    rss_per_job = [
        (run["rss_kb"] - reference) / (params.jobs - 1)
        for run in spread + herd
        if run["rss_kb"] is not None and params.jobs > 1
    ]
    spread_note = (
        "spread: monitor i every P·(0.95 + 0.1·i/N); cadences align to midnight, so monitors with "
        "one period always share fire instants and only different periods spread them"
    )
    return [
        *lateness_rows(
            "scheduler lateness, spread:",
            label,
            spread,
            bare[False],
            {"p99_ms": Target(10, text="<= 10 ms"), "p999_ms": Target(50, text="<= 50 ms")},
            [lateness_note(spread), spread_note],
        ),
        Row(
            "scheduler fires not run, spread (per window)",
            med(spread, "not_run"),
            med(bare[False], "not_run"),
            "",
            Target(0, text="0"),
            note="fires scheduled in the window that had not started when the daemon stopped "
            f"({params.drain_s:g} s after the window): skipped as overlapping, missed, or still queued",
        ),
        Row("scheduler CPU, spread", med(spread, "cpu_pct"), med(bare[False], "cpu_pct"), "%"),
        Row(
            "scheduler memory per job",
            median(rss_per_job),
            med(bare[False] + bare[True], "rss_kb_per_job"),
            "KB",
            Target(2.2, text="<= 2.2 KB"),
            note="daemon: (RSS at the end of the window - RSS with 1 monitor) / (N - 1): config, "
            "schedule and state of a one-check monitor; baseline: RSS growth from adding N jobs",
        ),
        *lateness_rows(
            "herd lateness:",
            "all every P: the daemon spreads them",
            herd,
            bare[True],
            {"p99_ms": Target(40, text="<= 40 ms")},
            [lateness_note(herd)],
        ),
        Row(
            "herd fires not run (per window)",
            med(herd, "not_run"),
            med(bare[True], "not_run"),
            "",
            Target(0, text="0"),
        ),
        Row(f"daemon start-up with {params.jobs:,} monitors", med(spread + herd, "startup_s"), None, "s"),
    ]
