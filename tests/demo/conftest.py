"""Fixtures of the demo tests.

``demo_proc`` (one per test session) runs ``python -m demo serve`` on free ports with a fresh data
folder and a ping recorder standing in for checkrunner's heartbeat endpoint; its teardown
sends SIGTERM and asserts a clean exit 0. The autouse ``all_ok`` fixture puts every check back
to ``ok`` after each test that used the process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.demo.support import DemoProc, recorder, start_demo, stop_demo


@pytest.fixture(scope="session")
def demo_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProc]:
    data = tmp_path_factory.mktemp("demo") / "demo-data"
    ping = recorder()
    started = start_demo(data, {"DEMO_BACKUP_PING_URL": ping.url})
    try:
        yield DemoProc(started, data, ping)
    finally:
        code = stop_demo(started)
        ping.server.shutdown()
        ping.server.server_close()
        assert code == 0, "".join(started.output[-20:])
        assert started.output[-1] == "demo: stopped\n"


@pytest.fixture(autouse=True)
def all_ok(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "demo_proc" in request.fixturenames:
        demo: DemoProc = request.getfixturevalue("demo_proc")
        if demo.proc.poll() is None:
            demo.set("all", "ok")
