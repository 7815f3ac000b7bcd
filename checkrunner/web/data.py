"""Loading what a page or an API answer shows: every store read of one request in one worker
thread (the event loop never waits on the database), then the pure views."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from checkrunner.alerting import Silence
from checkrunner.store import ChannelHealth, IncidentRecord, RunRecord
from checkrunner.web.context import WebContext
from checkrunner.web.views import CheckView, NextRun, check_views, next_runs, windows_at

#: Points of a sparkline, and how far back they may come from.
SPARK_POINTS = 48
SPARK_SINCE = timedelta(days=1)
RECENT_RUNS = 10
#: How long uptime counts are reused (see _uptime).
UPTIME_TTL = timedelta(seconds=60)
#: Delivery health covers the messages of the last day.
CHANNELS_SINCE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Snapshot:
    now: datetime
    checks: list[CheckView]
    runs: list[RunRecord]
    next_runs: list[NextRun]
    incidents: list[IncidentRecord]
    silences: list[Silence]
    channels: list[ChannelHealth]


def _load(context: WebContext, now: datetime, with_runs: bool) -> Snapshot:
    store = context.store
    config = context.config
    states = store.load_states()
    latest = store.latest_results()
    uptime = _uptime(context, now)
    latencies = store.recent_latencies(now - SPARK_SINCE, SPARK_POINTS)
    incidents = store.incidents(open_only=True, limit=100)
    silences = store.silences(now)
    views = check_views(config, states, latest, uptime, latencies, now, context.redact, incidents, silences)
    if not with_runs:
        return Snapshot(now, views, [], [], incidents, silences, [])
    runs = store.recent_runs(RECENT_RUNS, kind="checklist")
    channels = store.channel_health(now - CHANNELS_SINCE)
    return Snapshot(now, views, runs, next_runs(config, now), incidents, silences, channels)


def _uptime(context: WebContext, now: datetime) -> dict[str, dict[str, tuple[int, int]]]:
    """Uptime counts, recomputed at most every ``UPTIME_TTL``: every open status page asks for
    them on each refresh, and the 30-day window folds a month of hourly rollups. Pages in
    between show counts at most that old (a 30-day percentage barely moves in a minute)."""
    cached = context.cache.get("uptime")
    if cached is not None and now - cached[0] < UPTIME_TTL:
        value: dict[str, dict[str, tuple[int, int]]] = cached[1]
        return value
    counts = context.store.uptime_counts(windows_at(now), now)
    context.cache["uptime"] = (now, counts)
    return counts


async def snapshot(context: WebContext, *, with_runs: bool = True) -> Snapshot:
    """Everything the status page shows as of now; ``with_runs=False`` (``/api/v1/checks``)
    skips runs, next runs and channels."""
    return await asyncio.to_thread(_load, context, context.clock.now(), with_runs)
