"""Burn-rate evaluation of every configured SLO at an instant, from the store: the input the
alert engine needs to raise ``critical``/``warning`` for an SLO burning its error budget.

``burn_states(store, config, now)`` -> ``{slo name: SloStatus}`` whose ``alert`` is the firing
:class:`~checkrunner.report.slo.BurnRule` or None (clear). Windows shorter than an hour are
read from raw results (rollups are hourly), so call it at most every minute or so; the alert
engine turns a change of ``alert`` into a notice (not wired yet: see the issue note).
"""

from __future__ import annotations

from datetime import datetime

from checkrunner.config import Config
from checkrunner.report.slo import DEFAULT_RULES, BurnRule, SloStatus, burn_windows, slo_status
from checkrunner.store import Store
from checkrunner.store.aggregate import Aggregate


def _total(aggs: dict[str, Aggregate]) -> Aggregate:
    total = Aggregate()
    for agg in aggs.values():
        total.merge(agg)
    return total


def burn_states(
    store: Store, config: Config, now: datetime, rules: tuple[BurnRule, ...] = DEFAULT_RULES
) -> dict[str, SloStatus]:
    out = {}
    for name, slo in sorted(config.document.slos.items()):
        checks = set(slo.checks)
        per_window = {
            window: _total(store.report_aggregates(checks, since, until, histogram=False))
            for window, (since, until) in burn_windows(now, rules).items()
        }
        whole = _total(store.report_aggregates(checks, now - slo.window, now, histogram=False))
        out[name] = slo_status(name, slo.checks, slo.objective, slo.window, whole, per_window, rules)
    return out
