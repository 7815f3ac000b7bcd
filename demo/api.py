"""Bodies of the imitated production API (pure: values and ``now`` in, JSON-able dicts out).

:func:`current_values` turns the walk factors into the named numbers the endpoints show (plus a
few derived ones: the day's running cost, hours since the last backup …); mode overrides are
applied to that mapping before a body is built, so a bent value shows up consistently in every
body that carries it. ``GET_ROUTES`` maps each GET path to its body builder; ``ACTIONS`` lists
the POST maintenance endpoints (their side effects live in the server).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from demo.model import METRICS, day_done

Values = Mapping[str, float | int | str]
Body = dict[str, Any]
V1 = "/api/v1"
REGIONS = ("asia", "eu", "us")
#: Runbook 000: daily budget R$3.00.
DAILY_BUDGET = 3.0
#: What a reverse proxy serves when the app behind it is in trouble: 200, but not JSON.
HTML_PAGE = (
    "<!doctype html><html><head><title>Maintenance</title></head>"
    "<body><h1>We'll be right back</h1><p>The service is under maintenance.</p></body></html>\n"
)


def _hour(now: datetime) -> float:
    return now.hour + now.minute / 60 + now.second / 3600


def current_values(now: datetime, factors: Mapping[str, float], started: datetime, last_backup: datetime) -> dict[str, float | int | str]:  # fmt: skip
    """Every named number at local time ``now`` (aware) for the given walk factors."""
    hour = _hour(now)
    values: dict[str, float | int | str] = {
        name: metric.value(hour, factors.get(name, 1.0)) for name, metric in METRICS.items()
    }
    avg = METRICS["avg_response_ms"]
    day_avg = sum(avg.level(h) for h in range(24)) / 24
    days_in_month = calendar.monthrange(now.year, now.month)[1]
    projected = float(values["daily_cost_projected"])
    month_cost = projected * (now.day - 1 + day_done(hour))
    values.update(
        avg_response_ms_24h=round(day_avg * factors.get("avg_response_ms", 1.0), 1),
        daily_cost=round(projected * day_done(hour), 2),
        month_to_date_cost=round(month_cost, 2),
        budget_used_percent=round(100 * month_cost / (DAILY_BUDGET * days_in_month), 1),
        hours_since_last_backup=round((now - last_backup).total_seconds() / 3600, 1),
        last_backup_at=last_backup.isoformat(timespec="seconds"),
        uptime_s=int((now - started).total_seconds()),
        detailed_status="healthy",
        regions_unhealthy=0,
        handoff_violations=0,
        invalid_instance_patterns=0,
        state_consistency_percent=100.0,
    )
    values.update(CONSTANTS)
    return values


def _pick(v: Values, *names: str) -> Body:
    return {name: v[name] for name in names}


def _health(v: Values, now: datetime) -> Body:
    return {"status": "healthy", "timestamp": now.isoformat(timespec="seconds"), "version": "1.0.0",
            "environment": "demo", "uptime_s": v["uptime_s"]}  # fmt: skip


def _detailed(v: Values, now: datetime) -> Body:
    down = int(v["regions_unhealthy"])
    return {
        "status": v["detailed_status"],
        "timestamp": now.isoformat(timespec="seconds"),
        "components": {
            "database": {"status": "up", "latency_ms": v["query_ms"]},
            "ai_provider": {"status": "up"},
            "cache": {"status": "up", "hit_rate_percent": v["cache_hit_rate_percent"]},
            "evolution_api": {"status": "connected"},
        },
        "regions": {r: ("unhealthy" if i < down else "healthy") for i, r in enumerate(REGIONS)},
        "regions_unhealthy": down,
        "resources": _pick(v, "cpu_percent", "memory_percent"),
    }


def _checked(v: Values) -> int:
    return int(float(v["requests_per_minute"]) * 1.5) + 20


def _delivery(v: Values, now: datetime) -> Body:
    attempted = _checked(v)
    rate = float(v["delivery_success_rate_percent"])
    delivered = round(attempted * rate / 100)
    return {"window": "15m", "attempted": attempted, "delivered": delivered,
            "failed": attempted - delivered, "success_rate_percent": rate}  # fmt: skip


def _consistency(v: Values, now: datetime) -> Body:
    checked = _checked(v)
    rate = float(v["state_consistency_percent"])
    return {
        "checked": checked,
        "mismatched": round(checked * (100 - rate) / 100),
        "consistency_percent": rate,
    }


def _summary(**fields: str) -> Callable[[Values, datetime], Body]:
    """A body of ``{json key: value name}``, plus the period it covers."""

    def build(v: Values, now: datetime) -> Body:
        return {"generated_at": now.isoformat(timespec="seconds")} | {
            key: v[name] for key, name in fields.items()
        }

    return build


GET_ROUTES: dict[str, Callable[[Values, datetime], Body]] = {
    "/health": _health,
    f"{V1}/health": _health,
    f"{V1}/health/detailed": _detailed,
    f"{V1}/health/database": lambda v, now: {"status": "up", "query_ms": v["query_ms"],
                                             "connections": v["active_connections"]},
    f"{V1}/metrics": _summary(cpu_percent="cpu_percent", memory_percent="memory_percent",
                              requests_per_minute="requests_per_minute", uptime_s="uptime_s"),
    f"{V1}/metrics/errors": _summary(window="window", error_rate_percent="error_rate_percent",
                                     server_error_rate_percent="server_error_rate_percent",
                                     requests_per_minute="requests_per_minute"),
    f"{V1}/metrics/database": _summary(active_connections="active_connections", max_connections="max_connections",
                                       replication_lag_ms="replication_lag_ms", avg_query_ms="query_ms"),
    f"{V1}/metrics/educational": _summary(avg_quality_score="avg_quality_score",
                                          generation_success_rate_percent="generation_success_rate_percent"),
    f"{V1}/metrics/customer-interactions": _summary(messages_last_hour="messages_last_hour",
                                                    response_rate_percent="response_rate_percent",
                                                    escalation_rate_percent="escalation_rate_percent"),
    f"{V1}/metrics/business-summary": _summary(response_rate_percent="response_rate_percent",
                                               conversion_rate_percent="conversion_rate_percent",
                                               revenue_projected_today="revenue_projected_today"),
    f"{V1}/metrics/business-day-summary": _summary(messages_projected_today="messages_projected_today",
                                                   conversion_rate_percent="conversion_rate_percent"),
    f"{V1}/metrics/interaction-analysis": _summary(escalation_rate_percent="escalation_rate_percent",
                                                   completion_rate_percent="completion_rate_percent",
                                                   satisfaction_score="satisfaction_score"),
    f"{V1}/metrics/revenue-summary": _summary(revenue_projected_today="revenue_projected_today",
                                              currency="currency"),
    f"{V1}/metrics/error-analysis": _summary(error_rate_24h_percent="error_rate_24h_percent",
                                             error_rate_percent="error_rate_percent"),
    f"{V1}/performance/metrics": _summary(window="window", avg_response_ms="avg_response_ms",
                                          p95_response_ms="p95_response_ms", p99_response_ms="p99_response_ms",
                                          requests_per_minute="requests_per_minute",
                                          cache_hit_rate_percent="cache_hit_rate_percent"),
    f"{V1}/performance/daily-summary": _summary(avg_response_ms_24h="avg_response_ms_24h",
                                                p95_response_ms="p95_response_ms",
                                                error_rate_24h_percent="error_rate_24h_percent"),
    f"{V1}/performance/cost-summary": _summary(currency="currency", daily_cost="daily_cost",
                                               daily_budget="daily_budget",
                                               month_to_date_cost="month_to_date_cost",
                                               budget_used_percent="budget_used_percent"),
    f"{V1}/performance/capacity-forecast": _summary(peak_cpu_forecast_percent="peak_cpu_forecast_percent",
                                                    expected_messages_tomorrow="messages_projected_today"),
    f"{V1}/security/daily-report": _summary(failed_auth_24h="failed_auth_24h",
                                            rate_limited_24h="rate_limited_24h"),
    f"{V1}/evolution/health": lambda v, now: {"status": "connected", "webhook_latency_ms": v["webhook_latency_ms"]},
    f"{V1}/maintenance/backup-status": _summary(last_backup_at="last_backup_at",
                                                hours_since_last_backup="hours_since_last_backup"),
    f"{V1}/reports/weekly-acquisition": _summary(new_customers="weekly_new_customers",
                                                 conversion_rate_percent="conversion_rate_percent"),
    f"{V1}/reports/weekly-revenue": _summary(revenue="weekly_revenue", currency="currency"),
    f"{V1}/reports/weekly-performance": _summary(avg_response_ms="weekly_avg_response_ms",
                                                 p95_response_ms="p95_response_ms"),
    f"{V1}/reports/weekly-cost-analysis": _summary(cost_per_customer="weekly_cost_per_customer",
                                                   currency="currency"),
    f"{V1}/reports/weekly-satisfaction": _summary(satisfaction_score="weekly_satisfaction_score"),
    f"{V1}/monitoring/delivery": _delivery,
    f"{V1}/monitoring/handoff": lambda v, now: {"checked": _checked(v), "violations": v["handoff_violations"]},
    f"{V1}/monitoring/instances": lambda v, now: {"checked": _checked(v),
                                                  "invalid_patterns": v["invalid_instance_patterns"]},
    f"{V1}/monitoring/consistency": _consistency,
}  # fmt: skip

#: Constants some bodies show next to the numbers.
CONSTANTS: dict[str, float | int | str] = {
    "window": "5m", "max_connections": 100, "currency": "BRL", "daily_budget": DAILY_BUDGET,
}  # fmt: skip

#: POST maintenance endpoints (runbook 000's weekly optimisation and monthly assessment).
ACTIONS: dict[str, str] = {
    f"{V1}/maintenance/database-optimize": "database-optimize",
    f"{V1}/maintenance/cache-optimize": "cache-optimize",
    f"{V1}/maintenance/logs-cleanup": "logs-cleanup",
    f"{V1}/performance/baseline-update": "baseline-update",
    f"{V1}/security/weekly-scan": "weekly-scan",
    f"{V1}/maintenance/monthly-analysis": "monthly-analysis",
    f"{V1}/security/monthly-audit": "monthly-audit",
    f"{V1}/reports/monthly-business-analysis": "monthly-business-analysis",
    f"{V1}/optimization/monthly-cost-review": "monthly-cost-review",
    f"{V1}/planning/monthly-capacity-update": "monthly-capacity-update",
}
