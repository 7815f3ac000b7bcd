"""Baseline: bare APScheduler 3.11 with N no-op async interval jobs, in its own process.

The same approach as peer-bench's ``sched_bench.py``: lateness = when the job's coroutine
starts minus its scheduled fire time (taken from the EVENT_JOB_SUBMITTED event's
``scheduled_run_times``); only fire times inside the window [start+warmup, start+warmup+measure)
count. Start offsets are spread evenly over the interval, or all aligned to one instant
(``--aligned``, the thundering herd). CPU and RSS are this process's own, from /proc.

Usage: python bench/apscheduler_bare.py --jobs 10000 --interval 10 --warmup 5 --measure 20 [--aligned]
Prints one JSON line (lateness in ms; ``rss_kb_per_job`` = RSS growth from adding the jobs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from procs import cpu_seconds, rss_kb
from report import percentile


async def measure(
    jobs: int, interval: float, warmup: float, measure_s: float, aligned: bool
) -> dict[str, Any]:
    pid = os.getpid()
    lateness: list[float] = []
    scheduled_for: dict[str, float] = {}
    missed = 0
    window = (0.0, 0.0)

    async def job(job_id: str) -> None:
        now = time.time()
        at = scheduled_for.get(job_id)
        if at is not None and window[0] <= at < window[1]:
            lateness.append((now - at) * 1000)

    def on_submit(event: JobEvent) -> None:
        scheduled_for[event.job_id] = event.scheduled_run_times[-1].timestamp()

    def on_missed(event: JobEvent) -> None:
        nonlocal missed
        missed += 1

    scheduler = AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    )
    scheduler.add_listener(on_submit, EVENT_JOB_SUBMITTED)
    scheduler.add_listener(on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    rss_before = rss_kb(pid)
    # Far enough ahead that adding every job finishes before the first fire.
    base = math.ceil(time.time()) + 1 + jobs / 4000
    window = (base + warmup, base + warmup + measure_s)
    for i in range(jobs):
        offset = 0.0 if aligned else interval * i / jobs
        start = datetime.fromtimestamp(base + offset, tz=UTC)
        scheduler.add_job(job, "interval", seconds=interval, args=[str(i)], id=str(i), start_date=start)
    scheduler.start()
    rss_jobs = rss_kb(pid)
    await asyncio.sleep(max(0.0, window[0] - time.time()))
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(max(0.0, window[1] - time.time()))
    cpu1, wall1 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(min(1.5, interval))  # let late runs of in-window fire times land
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # tasks pending at exit
    scheduler.shutdown(wait=False)
    expected = sum(
        _fires_in(base + (0.0 if aligned else interval * i / jobs), interval, window) for i in range(jobs)
    )
    return {
        "jobs": jobs,
        "interval_s": interval,
        "aligned": aligned,
        "runs": len(lateness),
        "expected": expected,
        "missed_events": missed,
        "p50_ms": percentile(lateness, 50),
        "p99_ms": percentile(lateness, 99),
        "p999_ms": percentile(lateness, 99.9),
        "max_ms": max(lateness) if lateness else None,
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "rss_kb_per_job": (rss_jobs - rss_before) / jobs if jobs else None,
    }


def _fires_in(first: float, interval: float, window: tuple[float, float]) -> int:
    """Fire times first + k*interval (k >= 0) inside [window[0], window[1])."""
    low = max(0, math.ceil((window[0] - first) / interval))
    high = math.ceil((window[1] - first) / interval)
    return max(0, high - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--measure", type=float, default=20.0)
    parser.add_argument("--aligned", action="store_true")
    args = parser.parse_args()
    coro = measure(args.jobs, args.interval, args.warmup, args.measure, args.aligned)
    print(
        json.dumps(asyncio.run(asyncio.wait_for(coro, timeout=args.warmup + args.measure + 120))), flush=True
    )


if __name__ == "__main__":
    main()
