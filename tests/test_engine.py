"""The engine: fire -> run -> store -> state, with baselines from stored history and memos."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checkrunner.config import load_config
from checkrunner.core.clock import ManualClock
from checkrunner.core.result import CheckResult
from checkrunner.core.status import Status
from checkrunner.engine import Engine
from checkrunner.store import Store

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday, 09:00 in Sao Paulo


def make(tmp_path: Path, body: str, db_url: str) -> tuple[Engine, Store, ManualClock]:
    (tmp_path / "schedules.yaml").write_text(
        f'timezone: America/Sao_Paulo\ndatabase: "{db_url}"\nalerting: {{default: []}}\n'
        + textwrap.dedent(body)
    )
    config = load_config(tmp_path / "schedules.yaml", {})
    store = Store.open(config.database_url)
    clock = ManualClock(T0)
    return Engine(config, store, clock), store, clock


async def test_baseline_compares_with_the_same_hour_of_past_weeks(tmp_path: Path, db_url: str) -> None:
    engine, store, _ = make(
        tmp_path,
        """\
    checks:
      volume:
        type: command
        run: [/bin/echo, "messages=40"]
        value: {regex: "messages=(\\\\d+)"}
        warn: "< baseline - 50%"
        baseline: {window: 28d, by: hour_of_week, min_samples: 3}
        every: 1h
    """,
        db_url,
    )
    # Same local hour on past Mondays: ~100 messages; other hours: ~10 (must be ignored).
    history = [
        CheckResult("volume", Status.OK, T0 - timedelta(weeks=w), 1.0, "x", value=100.0) for w in (1, 2, 3)
    ] + [CheckResult("volume", Status.OK, T0 - timedelta(hours=h), 1.0, "x", value=10.0) for h in (1, 2, 5)]
    store.add_results(history)
    try:
        result = await engine.run_check("volume")
    finally:
        await engine.aclose()
        store.close()
    assert result.value == 40.0
    assert result.status is Status.WARNING
    assert result.threshold == "warn: < baseline - 50%"


async def test_too_little_history_says_so_instead_of_alerting(tmp_path: Path, db_url: str) -> None:
    engine, store, _ = make(
        tmp_path,
        """\
    checks:
      volume: {type: command, run: [/bin/echo, "7"], value: {regex: "(\\\\d+)"}, warn: "< baseline - 50%", every: 1h}
    """,
        db_url,
    )
    try:
        result = await engine.run_check("volume")
    finally:
        await engine.aclose()
        store.close()
    assert result.status is Status.OK
    assert "baseline needs 30 samples, has 0" in result.summary


async def test_for_turns_the_state_hard_only_after_the_duration(tmp_path: Path, db_url: str) -> None:
    engine, store, clock = make(
        tmp_path,
        """\
    checks:
      slow: {type: command, run: [/bin/echo, "700"], value: {regex: "(\\\\d+)"}, warn: "> 500", for: 5m, every: 1m}
    """,
        db_url,
    )
    try:
        statuses = []
        for gap in (0, 70, 130, 101):  # irregular gaps: 0 s, 70 s, 200 s, 301 s after the first
            clock.advance(timedelta(seconds=gap))
            await engine.run_check("slow")
            statuses.append(store.load_states(["slow"])["slow"].status)
    finally:
        await engine.aclose()
        store.close()
    assert statuses == [Status.OK, Status.OK, Status.OK, Status.WARNING]


async def test_log_check_memo_survives_between_runs(tmp_path: Path, sqlite_url: str) -> None:
    log = tmp_path / "app.log"
    log.write_text("INFO start\n")
    engine, store, clock = make(
        tmp_path,
        f"""\
    checks:
      errors: {{type: log, path: "{log}", pattern: ERROR, warn: "> 0", every: 1m}}
    """,
        sqlite_url,
    )
    try:
        first = await engine.run_check("errors")
        with log.open("a") as handle:
            handle.write("ERROR one\nINFO fine\nERROR two\n")
        clock.advance(timedelta(minutes=1))
        second = await engine.run_check("errors")
    finally:
        await engine.aclose()
        store.close()
    assert first.status is Status.OK and first.summary.startswith("watching from byte")
    assert (second.status, second.value) == (Status.WARNING, 2.0)


async def test_per_host_limit_caps_concurrent_checks_against_one_host(
    tmp_path: Path, sqlite_url: str
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lock = threading.Lock()
    active = [0, 0]  # now, peak

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                active[0] += 1
                active[1] = max(active[1], active[0])
            threading.Event().wait(0.3)
            with lock:
                active[0] -= 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    checks = "".join(f'  h{i}: {{type: http, url: "{url}?n={i}", every: 1m}}\n' for i in range(6))
    engine, store, _ = make(tmp_path, "limits: {per_host: 2}\nchecks:\n" + checks, sqlite_url)
    try:
        results = await engine.run_checks([f"h{i}" for i in range(6)])
    finally:
        await engine.aclose()
        store.close()
        server.shutdown()
        server.server_close()
    assert all(r.status is Status.OK for r in results)
    assert active[1] == 2


COUNTER_PLUGIN = """
from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin


class CounterCheck(CheckPlugin[CheckOptions]):
    type = "counter"
    Options = CheckOptions
    uses_memo = USES_MEMO

    async def run(self, options: CheckOptions, ctx: CheckContext) -> Observation:
        n = int(ctx.memo.get("n", 0)) + 1
        return Observation(Status.OK, f"run {n}", value=float(n), memo={"n": n})
"""


async def test_a_plugin_gets_its_memo_back_only_when_it_declares_uses_memo(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("checkrunner.runner.check._WARNED_MEMO", set())  # warned once per process
    values = {}
    for declared in (True, False):
        folder = tmp_path / str(declared)
        (folder / "checks").mkdir(parents=True)
        (folder / "checks" / "counter.py").write_text(COUNTER_PLUGIN.replace("USES_MEMO", str(declared)))
        name = f"c{int(declared)}"  # one database for both configs: separate histories
        engine, store, clock = make(folder, f"checks:\n  {name}: {{type: counter, every: 1m}}\n", db_url)
        try:
            for _ in range(3):
                clock.advance(timedelta(minutes=1))
                await engine.run_check(name)
            values[declared] = [r.value for r in reversed(store.history(name))]
        finally:
            await engine.aclose()
            store.close()
    assert values == {True: [1.0, 2.0, 3.0], False: [1.0, 1.0, 1.0]}
    assert "returned a memo but does not set uses_memo = True" in caplog.text
