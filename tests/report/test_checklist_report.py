"""The checklist run report: steps with status, value, threshold, latency, summary and a
bounded detail excerpt, what changed since the previous run of the same checklist (read from
the store), hostile values escaped, and the engine's plain context still rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from checkrunner.core.result import CheckResult
from checkrunner.core.status import MARKS, Status
from checkrunner.report.checklist import EXCERPT_MAX, checklist_context
from checkrunner.store import Store
from checkrunner.templating import make_environment, render

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 09:00 in São Paulo
TZ = ZoneInfo("America/Sao_Paulo")
HOSTILE = "<script>alert(1)</script>"


def record_run(
    store: Store, at: datetime, steps: list[tuple[str, Status, float | None]]
) -> tuple[int, list[CheckResult]]:
    run_id = store.start_run("checklist", "morning", at)
    results = [
        CheckResult(
            check,
            status,
            at,
            100.0 + i,
            f"{check} says {HOSTILE}",
            value,
            detail="x" * 3000 + HOSTILE,
            threshold="crit: > 500" if status is Status.CRITICAL else None,
            run_id=run_id,
        )
        for i, (check, status, value) in enumerate(steps)
    ]
    store.add_results(results)
    store.finish_run(run_id, max((r.status for r in results), key=lambda s: s.rank), at)
    return run_id, results


def context(store: Store, run_id: int, results: list[CheckResult]) -> dict[str, object]:
    return checklist_context(
        title="Morning health check",
        checklist="morning",
        status="critical",
        run_id=run_id,
        started_at=T0 + timedelta(days=1),
        results=results,
        previous=store.previous_run("checklist", "morning", run_id),
        public_url="https://checks.example.com/",
    )


def test_the_report_says_what_changed_since_the_previous_run(store: Store) -> None:
    record_run(store, T0 - timedelta(days=1), [("api", Status.CRITICAL, 900.0)])  # older: not compared
    first, _ = record_run(store, T0, [("api", Status.OK, 200.0), ("cost", Status.OK, 2.0)])
    run_id, results = record_run(
        store,
        T0 + timedelta(days=1),
        [("api", Status.CRITICAL, 612.0), ("cost", Status.OK, 2.0), ("disk", Status.OK, None)],
    )
    ctx = context(store, run_id, results)
    assert ctx["previous_run_id"] == first
    assert ctx["changes"] == ["api: ok -> critical", "disk: new step (ok)"]
    env = make_environment(None, TZ)
    text = render(env, "checklist.txt.j2", **ctx)
    assert text.splitlines()[0] == f"Morning health check — CRITICAL (run {run_id}, 2026-11-22 09:00:00 -03)"
    assert text.splitlines()[-1] == "Changed since the previous run: api: ok -> critical; disk: new step (ok)"
    md = render(env, "checklist.md.j2", **ctx)
    assert "🔴 *api* `612` 100 ms — api says ‹script›alert(1)‹/script› (crit: > 500)" in md
    assert (
        "<script>" not in md
        and "_Changed since the previous run:_ api: ok -> critical; disk: new step (ok)" in md
    )


def test_the_html_report_escapes_values_and_bounds_the_detail(store: Store) -> None:
    record_run(store, T0, [("api", Status.OK, 200.0)])
    run_id, results = record_run(store, T0 + timedelta(days=1), [("api", Status.CRITICAL, 612.0)])
    html = render(make_environment(None, TZ), "checklist.html.j2", **context(store, run_id, results))
    assert "<script>" not in html
    assert "api says &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        "critical (was ok)" in html and "612<div" in html and "was 200" in html and "crit: &gt; 500" in html
    )
    excerpt = html[html.index("<pre") : html.index("</pre>")].split(">", 1)[1]
    assert excerpt == "x" * (EXCERPT_MAX - 1) + "…"
    assert f'href="https://checks.example.com/runs/{run_id}"' in html


def test_a_first_run_has_no_changes_and_the_engine_context_still_renders(store: Store) -> None:
    run_id, results = record_run(store, T0, [("api", Status.OK, 200.0)])
    assert context(store, run_id, results)["changes"] == []
    plain = {
        "title": "Morning",
        "checklist": "morning",
        "status": "ok",
        "run_id": run_id,
        "started_at": T0,
        "results": results,
        "width": 3,
        "marks": MARKS,
        "public_url": "",
    }
    env = make_environment(None, TZ)
    for name in ("checklist.txt.j2", "checklist.md.j2", "checklist.html.j2"):
        assert "api" in render(env, name, **plain)
