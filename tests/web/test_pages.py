"""The status page and the run page: content, escaping, no secrets, no external resources."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkrunner.config import load_config
from checkrunner.core.clock import ManualClock
from checkrunner.core.status import Status
from checkrunner.engine import Engine
from checkrunner.store import Store
from checkrunner.web import Liveness, Metrics, WebContext
from checkrunner.web.data import snapshot
from checkrunner.web.sparkline import sparkline
from checkrunner.web.views import age_text
from tests.web.support import PING_KEY, TOKEN, Served, write_config


async def test_status_page_shows_states_uptime_sparklines_next_runs_and_recent_runs(served: Served) -> None:
    run = await served.engine.run_checklist("morning")
    await served.engine.run_check("fine")
    response = await served.client.get("/", auth=("me", TOKEN))
    assert response.status_code == 200
    html = response.text
    assert '<meta http-equiv="refresh" content="30">' in html
    assert re.search(r'data-check="fine" data-status="ok"', html)
    assert re.search(r'data-check="broken" data-status="critical"', html)
    assert re.search(r'data-check="backup" data-status="pending"', html)
    assert "100.00%" in html and "0.00%" in html
    assert html.count('<svg class="spark"') == 2  # the two checks that ran
    assert f'href="/runs/{run.run_id}"' in html
    assert "checklist:morning" in html and "monitor:peak" in html  # next runs
    assert "08:00-12:00 every 15m" in html


async def test_everything_from_checked_systems_is_escaped_and_secrets_are_masked(served: Served) -> None:
    run = await served.engine.run_checklist("morning")
    for path in ["/", f"/runs/{run.run_id}"]:
        html = (await served.client.get(path, auth=("me", TOKEN))).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script" not in html.lower()  # the page itself needs no JavaScript either
        assert PING_KEY not in html and TOKEN not in html
        # no external resource: no CDN, no font, no script source
        assert not re.search(r'(src|href)="(https?:)?//', html)
    run_html = (await served.client.get(f"/runs/{run.run_id}", auth=("me", TOKEN))).text
    assert "Morning &lt;b&gt;check&lt;/b&gt;" in run_html  # the title comes from the config: escaped too


async def test_pages_forbid_scripts_and_framing_by_header(served_sqlite: Served) -> None:
    response = await served_sqlite.client.get("/", auth=("me", TOKEN))
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["cache-control"] == "no-store"


def test_sparkline_scales_latencies_and_marks_problems_with_dots() -> None:
    start = datetime(2026, 11, 22, tzinfo=UTC)
    points = [(start + timedelta(minutes=i), latency, status) for i, (latency, status) in
              enumerate([(10.0, Status.OK), (20.0, Status.OK), (40.0, Status.CRITICAL)])]  # fmt: skip
    svg = str(sparkline(points))
    assert svg.startswith('<svg class="spark"') and svg.endswith("</svg>")
    coords = re.search(r'points="([^"]+)"', svg)
    assert coords is not None
    xs_ys = [tuple(map(float, p.split(","))) for p in coords[1].split()]
    assert [x for x, _ in xs_ys] == [0.0, 60.0, 120.0]
    assert xs_ys[2][1] < xs_ys[1][1] < xs_ys[0][1]  # higher latency = higher on screen (smaller y)
    assert svg.count("<circle") == 1  # one non-ok result
    assert "latency 10–40 ms over the last 3 runs" in svg
    assert str(sparkline([])) == ""
    assert "<circle" not in str(sparkline(points[:1]))


def test_ages_read_as_the_two_largest_units() -> None:
    assert age_text(None) == "never"
    assert age_text(timedelta(seconds=0)) == "0s"
    assert age_text(timedelta(seconds=45)) == "45s"
    assert age_text(timedelta(minutes=3, seconds=20)) == "3m 20s"
    assert age_text(timedelta(days=1, hours=3, minutes=5)) == "1d 3h"
    assert age_text(timedelta(seconds=-5)) == "0s"


async def test_uptime_counts_are_reused_for_a_minute_then_recomputed(tmp_path: Path, sqlite_url: str) -> None:
    config = load_config(write_config(tmp_path, sqlite_url))
    clock = ManualClock(datetime.now(UTC))
    with Store.open(sqlite_url) as store:
        engine = Engine(config, store, clock)
        context = WebContext(engine, Metrics(), Liveness(clock))
        try:
            await engine.run_check("fine")
            first = await snapshot(context)
            await engine.run_check("broken")
            clock.advance(timedelta(seconds=59))
            cached = await snapshot(context)
            clock.advance(timedelta(seconds=2))
            fresh = await snapshot(context)
        finally:
            await engine.aclose()
    uptime = {s: {v.name: v.uptime["24h"] for v in snap.checks} for s, snap in
              (("first", first), ("cached", cached), ("fresh", fresh))}  # fmt: skip
    assert uptime["first"]["broken"] is None and uptime["cached"]["broken"] is None
    assert uptime["fresh"]["broken"] == 0.0 and uptime["fresh"]["fine"] == 100.0
    # everything else is live on every load
    assert {v.name: v.label for v in cached.checks}["broken"] == "critical"
