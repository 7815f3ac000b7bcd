"""checkrunner's daemon benchmarks: one command, one table.

Usage: python bench/run.py [--quick] [--only scheduler,storage,http,command,idle,reports,nagios] [--runs N]

Prints ONE markdown table to stdout (progress goes to stderr): metric | checkrunner | baseline
measured in the same run | ratio (checkrunner / baseline) | target | pass/fail, then numbered
notes. What is measured and how is in bench/README.md and each section's module docstring.
Everything runs in a temporary folder that is removed at the end; every server and daemon
binds 127.0.0.1 and is stopped by PID, also when a section fails. A section that cannot run
reports "not measured" with the reason instead of a figure.

Full run: about 13 minutes (scheduler with 10,000 monitors, medians of 3). ``--quick``: about
3 minutes, smaller loads (1,000 monitors every 1 s: the same fire rate), one run each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))  # this checkout's checkrunner, without installing it

import commands  # noqa: E402
import http_checks  # noqa: E402
import idle  # noqa: E402
import nagios_ref  # noqa: E402
import reports  # noqa: E402
import scheduler  # noqa: E402
import storage  # noqa: E402
from procs import BenchError, progress  # noqa: E402
from report import Row, render  # noqa: E402

SECTIONS = ("scheduler", "storage", "http", "command", "idle", "reports", "nagios")


def plan(quick: bool, runs: int | None) -> dict[str, Callable[[Path], list[Row]]]:
    if quick:
        sched = scheduler.Params(jobs=1000, period_s=1, warmup_s=3, measure_s=4, drain_s=2, runs=1)
        store = storage.Params(rows=10_000, per_row=500, runs=1)
        http = http_checks.Params(warmup_s=2, measure_s=4, runs=1)
        command = commands.Params(warmup_s=1, measure_s=4, runs=1)
        idle_s = 30.0
        rep = reports.Params(checks=100, raw_day=False, runs=1)
        nagios = nagios_ref.Params(warmup_s=3, nagios_warmup_s=11, measure_s=10, runs=1)
    else:
        sched = scheduler.Params()
        store = storage.Params()
        http = http_checks.Params()
        command = commands.Params()
        idle_s = 60.0
        rep = reports.Params()
        nagios = nagios_ref.Params()
    if runs is not None:
        sched = scheduler.Params(
            sched.jobs, sched.period_s, sched.warmup_s, sched.measure_s, sched.drain_s, runs
        )
        store = storage.Params(store.rows, store.per_row, runs)
        http = http_checks.Params(http.warmup_s, http.measure_s, runs)
        command = commands.Params(command.warmup_s, command.measure_s, runs)
        rep = reports.Params(rep.checks, rep.raw_day, runs)
        nagios = nagios_ref.Params(nagios.warmup_s, nagios.nagios_warmup_s, nagios.measure_s, runs)
    return {
        "scheduler": lambda folder: scheduler.measure(folder, sched),
        "storage": lambda folder: storage.measure(folder, store),
        "http": lambda folder: http_checks.measure(folder, http),
        "command": lambda folder: commands.measure(folder, command),
        "idle": lambda folder: idle.measure(folder, idle_s),
        "reports": lambda folder: reports.measure(folder, rep),
        "nagios": lambda folder: nagios_ref.measure(folder, nagios),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="checkrunner daemon benchmarks: one table")
    parser.add_argument("--quick", action="store_true", help="smaller loads, one run each (~2 min)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated subset of {', '.join(SECTIONS)}"
    )
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement (medians are reported)")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    sections = plan(args.quick, args.runs)
    rows: list[Row] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="checkrunner-bench-") as tmp:
        for name in wanted:
            folder = Path(tmp) / name
            folder.mkdir()
            started = time.monotonic()
            try:
                rows += sections[name](folder)
            except Exception as exc:  # one broken section must not cost the others' figures
                text = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
                message = " ".join(text.split())[:200]
                progress(f"{name} failed: {message}")
                rows.append(Row(f"{name}", None, note=f"not measured: {message}"))
            progress(f"{name} took {time.monotonic() - started:.0f} s")
    mode = "quick" if args.quick else "full"
    print(
        f"checkrunner benchmarks ({mode} run, {time.monotonic() - t0:.0f} s, 2 cores shared: compare ratios)\n"
    )
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
