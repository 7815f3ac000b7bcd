"""The golden day (tests/report/conftest.py::load_golden) rendered as text, markdown and HTML:
the numbers derived by hand there are asserted in the output, on SQLite and PostgreSQL, and
again after retention pruned every raw result."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from checkrunner.core.status import Status
from checkrunner.report.compose import ReportView, build_report
from checkrunner.report.periods import parse_period
from checkrunner.report.render import render_report
from checkrunner.report.stats import IncidentStats
from checkrunner.templating import make_environment
from tests.report.conftest import GOLDEN_DAY, NOW, World, load_golden, result

#: Exact nearest-rank latencies of api on the golden day (ms).
P50, P95, P99 = 81.0, 146.0, 152.0


def view_of(world: World, period: str = "2026-11-21", name: str = "daily") -> ReportView:
    return build_report(
        world.store, world.config, name, parse_period(period, NOW, world.config.timezone), NOW
    )


def rendered(world: World, fmt: str, view: ReportView | None = None) -> str:
    env = make_environment(None, world.config.timezone)
    return render_report(env, view or view_of(world), fmt)  # type: ignore[arg-type]


def ms_values(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"([\d.]+) ms", text)]


def assert_latencies(text: str) -> None:
    p50, p95, p99 = ms_values(text)[:3]
    for got, exact in ((p50, P50), (p95, P95), (p99, P99)):
        assert abs(got - exact) / exact <= 0.011, (got, exact)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_the_text_report_of_the_golden_day_has_its_numbers(world: World) -> None:
    load_golden(world)
    text = rendered(world, "text")
    lines = text.splitlines()
    assert lines[0] == "Daily report — Sat 21 Nov 2026 (2026-11-21, America/Sao_Paulo)"
    assert lines[1] == "Uptime 95.83% · incidents 2 · results 144 · compared with 2026-11-20"
    [api] = [line for line in lines if line.strip().startswith("api ")]
    assert re.search(r"api\s+95\.83%\s+-4\.17pp\s", api)
    assert "2 (1h 30m, MTTR 1h 00m)" in api
    assert api.endswith("0 / 71.5 / 143 +43.0%")
    assert_latencies(api)
    [quiet] = [line for line in lines if line.strip().startswith("quiet ")]
    assert re.fullmatch(r"\s+quiet\s+–\s+– / – / –\s+0\s+–", quiet)
    assert "staging" not in text  # out of the daily report's scope (tags: [prod])
    assert (
        "api-availability: compliance 97.917% (objective 99.9%, 30d), error budget exhausted (6 bad results, 0.3 allowed)"
        in text
    )
    assert "slack-ops: 3 alerts sent, 3 delivered, 1 failed, 0 expired, success rate 75.0%" in text
    assert "email-admins: 0 alerts sent, 2 delivered, 0 failed, 0 expired, success rate 100.0%" in text
    assert "monitor:peak: 2 skipped, 1 missed" in text


def test_the_summary_puts_what_breached_first(world: World) -> None:
    load_golden(world)
    view = view_of(world)
    assert [(line.level, line.text) for line in view.summary] == [
        ("critical", "SLO api-availability breached: 97.917% against 99.9% over 30d; error budget exhausted"),
        ("critical", "api: 2 incidents, 1h 30m in incident, uptime 95.83%"),
        ("warning", "1 check produced no result in this period: quiet"),
        ("warning", "channel slack-ops: 75.0% of messages delivered"),
        ("warning", "monitor:peak: 1 missed and 2 skipped runs"),
        ("info", "api: uptime -4.17 pp against the previous period"),
        ("info", "api: average latency +308% against the previous period"),
    ]


def test_the_html_report_of_the_golden_day_has_its_numbers_and_bars(world: World) -> None:
    load_golden(world)
    html = rendered(world, "html")
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    row = html[html.index("<b>api</b>") : html.index("<b>quiet</b>")]
    text = html_text(row)
    assert "144 results · 6 critical" in text
    assert "95.83% -4.17 pp" in text
    assert "2 · 1h 30m MTTR 1h 00m · longest 1h 00m" in text
    assert "0 / 71.5 / 143 avg +43.0%" in text
    assert_latencies(text)
    # One uptime cell per local hour: the 10:00 hour (all critical) red, the others green.
    cells = re.findall(r'title="([^"]*)" style="background:(#[0-9a-f]{6})', row)
    assert len(cells) == 24
    assert cells[10] == ("0.00%", "#d64545")
    assert [c for i, c in enumerate(cells) if i != 10] == [("100.00%", "#2e9e5b")] * 23
    head = html_text(html[: html.index("Summary")])
    assert "95.83% uptime 2 incidents 144 results 0 / 1 SLOs met" in head


def test_the_markdown_report_is_compact_with_a_sparkline(world: World) -> None:
    load_golden(world)
    md = rendered(world, "markdown")
    assert md.startswith(
        "*Daily report* — Sat 21 Nov 2026 (America/Sao_Paulo)\nUptime *95.83%* · incidents *2*"
    )
    [api] = [line for line in md.splitlines() if line.startswith("api ")]
    spark = api.split()[4]
    assert len(spark) == 24 and spark[10] == "▁" and set(spark[:10] + spark[11:]) == {"█"}
    assert abs(ms_values(api)[0] - P95) / P95 <= 0.011
    assert "• api-availability: 97.917% of 99.9% (30d), error budget exhausted" in md


def test_a_month_covers_both_days_and_compares_with_the_month_before(world: World) -> None:
    load_golden(world)
    view = view_of(world, "2026-11", "monthly")
    api = next(c for c in view.checks if c.check == "api")
    assert (api.results, round(api.uptime or 0, 2), api.uptime_change) == (288, 97.92, None)
    assert len(api.uptime_series) == 30 and api.uptime_series[19:21] == (
        100.0,
        pytest.approx(95.833, abs=0.001),
    )
    staging = view.checks[0]  # no scope: every check; an incident still open at the end ranks first
    assert (staging.check, staging.uptime, staging.incidents.open_at_end) == ("staging", 0.0, 1)
    assert staging.incidents.total_s == 33 * 3600  # a month still running: counted up to now


def test_reports_are_unchanged_after_retention_prunes_the_raw_results(world: World) -> None:
    load_golden(world)
    before = {fmt: rendered(world, fmt) for fmt in ("text", "html", "markdown")}
    pruned = world.store.prune(NOW, NOW - timedelta(days=400), NOW - timedelta(days=90))
    assert pruned["results"] == 144 * 3 and pruned["fires"] == 10
    assert (pruned["rollups"], pruned["incidents"], pruned["messages"]) == (0, 0, 0)
    assert world.store.history("api") == []
    after = {fmt: rendered(world, fmt) for fmt in ("text", "html", "markdown")}
    for fmt in before:
        assert after[fmt].splitlines() == before[fmt].splitlines()


def test_retention_drops_rollups_older_than_their_own_cutoff(world: World) -> None:
    load_golden(world)
    pruned = world.store.prune(NOW, NOW + timedelta(days=1), NOW - timedelta(days=90))
    assert pruned["rollups"] == (48 + 3) + (24 + 2)  # hours, and the UTC days they touch
    assert pruned["incidents"] == 2  # the resolved ones; staging's open incident stays
    assert view_of(world).results == 0


def test_rekeying_day_rollups_to_the_config_timezone_changes_no_figure(world: World) -> None:
    load_golden(world)
    views = {
        name: view_of(world, period, name)
        for name, period in (("daily", "2026-11-21"), ("monthly", "2026-11"))
    }
    before = {name: rendered(world, "text", view) for name, view in views.items()}
    assert world.store.set_rollup_timezone(world.config.timezone) is True
    assert world.store.set_rollup_timezone(world.config.timezone) is False
    # The month is now read in one pass over local-day rows instead of UTC days plus hours.
    assert rendered(world, "text", view_of(world, "2026-11", "monthly")) == before["monthly"]
    # Results arriving after the change fold into local days of São Paulo (the write path reads it).
    late = GOLDEN_DAY + timedelta(days=1, hours=2)
    world.store.add_results([result("api", late, Status.CRITICAL)])
    days = world.store.report_series(
        {"api"}, [GOLDEN_DAY, GOLDEN_DAY + timedelta(days=1), GOLDEN_DAY + timedelta(days=2)]
    )
    assert [a.total for a in days["api"]] == [144, 1]
    after = {
        name: rendered(world, "text", view_of(world, view.period.label, name)) for name, view in views.items()
    }
    assert after["daily"] == before["daily"]
    monthly = view_of(world, "2026-11", "monthly")
    api = next(c for c in monthly.checks if c.check == "api")
    assert api.results == 289 and api.uptime_series[19:22] == (100.0, pytest.approx(95.833, abs=0.001), 0.0)


def test_beyond_the_bars_limit_only_checks_with_something_to_say_get_a_row(world: World) -> None:
    load_golden(world)
    world.store.add_results([result("staging", GOLDEN_DAY + timedelta(minutes=m)) for m in range(3)])
    base = view_of(world, "2026-11", "monthly")
    healthy = replace(base.checks[0], check="zz-healthy", uptime=100.0, incidents=IncidentStats())
    view = replace(base, checks=(*base.checks, healthy), bars_limit=1)
    assert [c.check for c in view.listed] == ["staging", "api", "quiet"]  # quiet never ran: listed
    assert [c.check for c in view.quiet] == ["zz-healthy"]
    text = rendered(world, "text", view)
    assert "  ... and 1 more checks at 100% uptime with no incident: zz-healthy" in text
    html = rendered(world, "html", view)
    assert html.count('title="') == 30  # one strip of 30 days, for the first check only
    assert "1 more checks at 100% uptime with no incident: zz-healthy" in html_text(html)
    assert "_1 more checks at 100% uptime with no incident._" in rendered(world, "markdown", view)


def test_a_period_without_any_result_is_not_called_all_clear(world: World) -> None:
    text = rendered(world, "text", view_of(world, "2026-11-21"))
    assert "All clear" not in text
    assert "[WARNING] no check produced a result in this period: was the daemon running?" in text
