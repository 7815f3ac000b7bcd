"""The demo service's numbers: a daily traffic curve and mean-reverting random walks (pure).

Every metric is ``level(hour) × factor``. ``level`` moves between a night and a peak value with
the traffic curve (busiest 09:00-11:30, again 15:00-17:00 as runbook 000 describes, quietest
00:00-06:00, local time). ``factor`` is an AR(1) walk around 1 whose stationary relative
spread is known and which is clipped to ``1 ± 3·spread``: in ``ok`` mode every metric stays
inside its healthy band, and the demo can say where "baseline + 2 sigma" of an hour lies
(:func:`hour_stats`), which the modes of sigma-based checks use. Callers pass the hour and the
random generator; nothing here reads a clock.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from itertools import pairwise

#: (local hour, traffic factor) knots, linearly interpolated; the factor lies in 0.2..1.
TRAFFIC = (
    (0.0, 0.2), (6.0, 0.22), (8.0, 0.75), (9.0, 1.0), (11.5, 1.0), (13.0, 0.7),
    (15.0, 0.85), (17.0, 0.85), (19.0, 0.55), (22.0, 0.35), (24.0, 0.2),
)  # fmt: skip
#: Pull of a walk towards 1 per tick (one tick per second): correlation time ~20 s, so checks a
#: minute apart see nearly independent samples.
REVERT = 0.05


def traffic(hour: float) -> float:
    """Traffic factor at a local hour (0 <= hour < 24; wraps)."""
    hour %= 24.0
    for (h0, f0), (h1, f1) in pairwise(TRAFFIC):
        if hour <= h1:
            return f0 + (f1 - f0) * (hour - h0) / (h1 - h0)
    return TRAFFIC[-1][1]


def _area(upto: float) -> float:
    total = 0.0
    for (h0, f0), (h1, _f1) in pairwise(TRAFFIC):
        if upto <= h0:
            break
        end = min(upto, h1)
        total += (f0 + traffic(end)) / 2 * (end - h0)  # trapezoid: exact on a linear piece
    return total


def day_done(hour: float) -> float:
    """Share of a day's traffic that has happened by this local hour (0..1)."""
    return _area(hour % 24.0) / _area(24.0)


def step(factor: float, spread: float, rng: random.Random) -> float:
    """One tick of a walk; the noise is sized so that the stationary spread is ``spread``."""
    noise = spread * math.sqrt(1 - (1 - REVERT) ** 2)
    moved = factor + REVERT * (1 - factor) + rng.gauss(0.0, noise)
    return min(max(moved, 1 - 3 * spread), 1 + 3 * spread)


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    night: float
    peak: float
    #: Stationary relative standard deviation of the walk (0 = constant).
    spread: float
    digits: int = 1
    cap: float | None = None

    def level(self, hour: float) -> float:
        return self.night + (self.peak - self.night) * (traffic(hour) - 0.2) / 0.8

    def value(self, hour: float, factor: float) -> float:
        raw = self.level(hour) * factor
        if self.cap is not None:
            raw = min(raw, self.cap)
        return round(raw, self.digits)


def hour_stats(metric: Metric, hour: int) -> tuple[float, float]:
    """Mean and standard deviation of the metric over the local clock hour [hour, hour+1).

    This is what a checker's ``baseline: {by: hour_of_day}`` converges to: the walk's spread
    plus the level's own movement within the hour."""
    levels = [metric.level(hour + i / 12) for i in range(12)]
    mean = sum(levels) / len(levels)
    drift = sum((x - mean) ** 2 for x in levels) / len(levels)
    return mean, math.sqrt((metric.spread * mean) ** 2 + drift)


_M = Metric
#: Healthy bands: ``level × (1 ± 3·spread)`` stays inside each example check's ok range.
METRICS = {
    m.name: m
    for m in (
        _M("avg_response_ms", 95, 190, 0.08),
        _M("p95_response_ms", 290, 340, 0.06),
        _M("p99_response_ms", 380, 560, 0.1),
        _M("requests_per_minute", 40, 900, 0.1, 0),
        _M("cache_hit_rate_percent", 85, 81, 0.015, 1, 100),
        _M("error_rate_percent", 0.08, 0.2, 0.3, 2),
        _M("server_error_rate_percent", 0.02, 0.06, 0.3, 3),
        _M("cpu_percent", 18, 55, 0.1),
        _M("memory_percent", 48, 62, 0.04),
        _M("messages_last_hour", 1.5, 14, 0.1, 0),
        _M("messages_projected_today", 60, 60, 0.1, 0),
        _M("response_rate_percent", 97.5, 96.5, 0.01, 1, 100),
        _M("escalation_rate_percent", 4, 5, 0.15),
        _M("conversion_rate_percent", 52, 52, 0.05),
        _M("completion_rate_percent", 84, 82, 0.03),
        _M("satisfaction_score", 4.4, 4.4, 0.02, 2, 5),
        _M("revenue_projected_today", 1500, 1500, 0.08, 2),
        _M("daily_cost_projected", 2.1, 2.1, 0.03, 2),
        _M("failed_auth_24h", 18, 18, 0.2, 0),
        _M("rate_limited_24h", 40, 40, 0.2, 0),
        _M("error_rate_24h_percent", 0.18, 0.18, 0.1, 3),
        _M("peak_cpu_forecast_percent", 52, 52, 0.05),
        _M("query_ms", 8, 22, 0.15),
        _M("active_connections", 6, 34, 0.12, 0),
        _M("replication_lag_ms", 40, 55, 0.1),
        _M("avg_quality_score", 0.8, 0.79, 0.02, 3, 1),
        _M("generation_success_rate_percent", 97.5, 97.5, 0.008, 1, 100),
        _M("webhook_latency_ms", 700, 1300, 0.12, 0),
        _M("delivery_success_rate_percent", 98.6, 97.9, 0.004, 1, 100),
        _M("weekly_new_customers", 22, 22, 0.08, 0),
        _M("weekly_revenue", 10500, 10500, 0.06, 2),
        _M("weekly_avg_response_ms", 150, 150, 0.04),
        _M("weekly_cost_per_customer", 9.5, 9.5, 0.1, 2),
        _M("weekly_satisfaction_score", 4.4, 4.4, 0.02, 2, 5),
    )
}
