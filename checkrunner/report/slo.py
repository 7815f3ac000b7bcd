"""SLO arithmetic and multi-window, multi-burn-rate alerting (pure; the Google SRE workbook's
recipe).

Events: every result of the SLO's checks with a known status; a **bad** event is a critical
result, a **good** one anything else known (``unknown`` results are not events: the check could
not tell). With objective ``o`` (e.g. 99.9 %):

* compliance = good / (good + bad), in %; met when compliance >= o.
* error budget (events) = (1 - o) x events; spent = bad events; remaining = budget - spent
  (negative once exhausted); remaining % = remaining / budget.
* burn rate over a window = (bad / events in that window) / (1 - o): 1.0 spends the budget
  exactly over the SLO window, 14.4 spends 2 % of a 30-day budget in one hour.

A :class:`BurnRule` fires when BOTH its long and its short window burn at ``factor`` or more:
the long window proves the burn is significant, the short one that it is still going on, so
the alert clears within minutes of the burn stopping. Defaults: 1 h and 5 min at 14.4x ->
critical, 6 h and 30 min at 6x -> warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from checkrunner.core.status import Status
from checkrunner.store.aggregate import Aggregate

Severity = Literal["critical", "warning"]


@dataclass(frozen=True, slots=True)
class BurnRule:
    long: timedelta
    short: timedelta
    factor: float
    severity: Severity


DEFAULT_RULES: tuple[BurnRule, ...] = (
    BurnRule(timedelta(hours=1), timedelta(minutes=5), 14.4, "critical"),
    BurnRule(timedelta(hours=6), timedelta(minutes=30), 6.0, "warning"),
)


def windows(rules: Sequence[BurnRule] = DEFAULT_RULES) -> list[timedelta]:
    """Every window the rules read, longest first."""
    return sorted({w for rule in rules for w in (rule.long, rule.short)}, reverse=True)


def events(agg: Aggregate | None) -> tuple[int, int]:
    """(good, bad) events of ``agg``."""
    if agg is None:
        return 0, 0
    good = agg.count(Status.OK) + agg.count(Status.WARNING)
    return good, agg.count(Status.CRITICAL)


def burn_rate(good: int, bad: int, objective: float) -> float:
    """Error rate over the allowed error rate; 0 without events. ``objective`` in %."""
    total = good + bad
    allowed = 1.0 - objective / 100.0
    if total == 0:
        return 0.0
    if allowed <= 0:
        return float("inf") if bad else 0.0
    return (bad / total) / allowed


def burn_alert(
    rates: Mapping[timedelta, float], rules: Sequence[BurnRule] = DEFAULT_RULES
) -> BurnRule | None:
    """The most severe rule whose long and short windows both burn at its factor or more
    (critical rules win over warning ones), or None: the alert is clear."""
    firing = [r for r in rules if rates.get(r.long, 0.0) >= r.factor and rates.get(r.short, 0.0) >= r.factor]
    if not firing:
        return None
    return max(firing, key=lambda r: (r.severity == "critical", r.factor))


@dataclass(frozen=True, slots=True)
class SloStatus:
    name: str
    checks: tuple[str, ...]
    objective: float  # %
    window: timedelta
    good: int
    bad: int
    compliance: float | None  # %, None without events
    budget: float  # events allowed to be bad over the window
    remaining: float  # budget - bad (negative once exhausted)
    remaining_pct: float | None  # of the budget
    burn: Mapping[timedelta, float]
    alert: BurnRule | None

    @property
    def met(self) -> bool:
        return self.compliance is None or self.compliance >= self.objective


def slo_status(
    name: str,
    checks: Sequence[str],
    objective: float,
    window: timedelta,
    over_window: Aggregate | None,
    per_burn_window: Mapping[timedelta, Aggregate | None],
    rules: Sequence[BurnRule] = DEFAULT_RULES,
) -> SloStatus:
    """Compliance and budget over ``window`` (from ``over_window``), burn rates per window."""
    good, bad = events(over_window)
    total = good + bad
    budget = (1.0 - objective / 100.0) * total
    rates = {w: burn_rate(*events(agg), objective) for w, agg in per_burn_window.items()}
    return SloStatus(
        name=name,
        checks=tuple(checks),
        objective=objective,
        window=window,
        good=good,
        bad=bad,
        compliance=100.0 * good / total if total else None,
        budget=budget,
        remaining=budget - bad,
        remaining_pct=100.0 * (budget - bad) / budget if budget > 0 else (None if bad == 0 else -100.0),
        burn=rates,
        alert=burn_alert(rates, rules),
    )


def burn_windows(
    now: datetime, rules: Sequence[BurnRule] = DEFAULT_RULES
) -> dict[timedelta, tuple[datetime, datetime]]:
    """The ``[since, until)`` ranges to read for each window of ``rules``, ending at ``now``."""
    return {window: (now - window, now) for window in windows(rules)}
