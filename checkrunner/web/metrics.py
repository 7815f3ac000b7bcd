"""Prometheus metrics of one daemon: an :class:`~checkrunner.core.observe.Observer`.

Each :class:`Metrics` owns a private ``CollectorRegistry`` (never prometheus-client's global
one), so two daemons in one test process, or one daemon and its tests, never share counters.

Names (DESIGN.md "Web surface"; exactly these, plus the last-success gauge the issue asks for)::

    checkrunner_check_runs_total{check,status}          counter
    checkrunner_check_latency_seconds{check}            histogram
    checkrunner_check_status{check}                     gauge: status of the last result, 0..3
    checkrunner_check_last_success_timestamp_seconds{check}  gauge: unix time of the last ok
    checkrunner_fire_lateness_seconds                   histogram: start - scheduled time
    checkrunner_fires_total{schedule,outcome}           counter: ran | skipped | missed
    checkrunner_notifications_total{channel,outcome}    counter
    checkrunner_outbox_pending                          gauge
    checkrunner_incidents_open                          gauge

The fire path calls :meth:`Metrics.fire` thousands of times a second: label children are
cached in plain dicts so a call is one dict lookup and one locked add.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.store import StoredState

#: Check latencies: 5 ms .. 60 s (HTTP checks to slow commands).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Fire lateness: a healthy daemon starts fires within milliseconds; minutes mean trouble.
LATENESS_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The daemon's metrics; implements the Observer protocol (never raises, never blocks)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Counter(
            "checkrunner_check_runs", "Check runs by check and status", ["check", "status"], registry=r
        )
        self.latency = Histogram(
            "checkrunner_check_latency_seconds",
            "Check run latency",
            ["check"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.status = Gauge(
            "checkrunner_check_status",
            "Status of the last result of each check (0 ok, 1 warning, 2 critical, 3 unknown)",
            ["check"],
            registry=r,
        )
        self.last_success = Gauge(
            "checkrunner_check_last_success_timestamp_seconds",
            "Unix time of the last ok result of each check",
            ["check"],
            registry=r,
        )
        self.lateness = Histogram(
            "checkrunner_fire_lateness_seconds",
            "Start of a fire minus its scheduled time",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.fires = Counter(
            "checkrunner_fires", "Fires by schedule and outcome", ["schedule", "outcome"], registry=r
        )
        self.notifications = Counter(
            "checkrunner_notifications",
            "Delivery attempts by channel and outcome",
            ["channel", "outcome"],
            registry=r,
        )
        self.outbox = Gauge("checkrunner_outbox_pending", "Messages waiting to be delivered", registry=r)
        self.incidents = Gauge("checkrunner_incidents_open", "Open incidents", registry=r)
        self._fire_children: dict[tuple[str, str], Counter] = {}

    def seed(self, states: Iterable[StoredState]) -> None:
        """Start the status gauges from stored states, so a restart does not show every check
        as absent until it runs again."""
        for state in states:
            self.status.labels(state.check).set(int(state.status))

    # -- Observer ------------------------------------------------------------------------
    def check_result(self, result: CheckResult) -> None:
        self.runs.labels(result.check, result.status.label).inc()
        self.latency.labels(result.check).observe(max(0.0, result.latency_ms) / 1000.0)
        self.status.labels(result.check).set(int(result.status))
        if result.status is Status.OK:
            self.last_success.labels(result.check).set(result.started_at.timestamp())

    def fire(self, schedule: str, outcome: str, lateness_s: float | None) -> None:
        key = (schedule, outcome)
        child = self._fire_children.get(key)
        if child is None:
            child = self._fire_children[key] = self.fires.labels(schedule, outcome)
        child.inc()
        if lateness_s is not None:
            # A fire started early (clock step) counts as on time, not as negative lateness.
            self.lateness.observe(max(0.0, lateness_s))

    def notification(self, channel: str, outcome: str) -> None:
        self.notifications.labels(channel, outcome).inc()

    def outbox_depth(self, n: int) -> None:
        self.outbox.set(n)

    def incidents_open(self, n: int) -> None:
        self.incidents.set(n)

    # -- exposition ----------------------------------------------------------------------
    def render(self) -> bytes:
        """The text exposition format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)
