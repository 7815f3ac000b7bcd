"""Heartbeat pings over real HTTP: keys, kinds, exit codes, generated keys, size limits."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from checkrunner.config import load_config
from checkrunner.store import Store
from checkrunner.web import ping_key, ping_url
from checkrunner.web.context import MAX_BODY
from tests.daemon.support import REPO
from tests.web.support import PING_KEY, Served, write_config

#: Bound on waiting for the background evaluation a ping starts.
SETTLE_S = 5.0


async def settled(served: Served) -> None:
    if served.surface.context.tasks:
        await asyncio.wait(list(served.surface.context.tasks), timeout=SETTLE_S)


async def test_a_ping_with_the_key_is_recorded_and_turns_the_check_green_at_once(served: Served) -> None:
    response = await served.client.post(f"/ping/backup?key={PING_KEY}")
    assert response.status_code == 200 and response.text == "OK\n"
    await settled(served)
    pings = served.store.ping_state("backup")
    assert pings.last_ping is not None and pings.last_fail is None
    latest = served.store.latest_results()["backup"]
    assert latest.status.label == "ok" and "last ping" in latest.summary


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
async def test_the_key_may_come_as_a_header_and_every_method_pings(
    served_sqlite: Served, method: str
) -> None:
    response = await served_sqlite.client.request(method, "/ping/backup", headers={"X-Ping-Key": PING_KEY})
    assert response.status_code == 200
    await settled(served_sqlite)
    assert served_sqlite.store.ping_state("backup").last_ping is not None


async def test_start_fail_and_exit_codes_are_recorded_as_their_kinds(served_sqlite: Served) -> None:
    client, store = served_sqlite.client, served_sqlite.store
    assert (await client.get(f"/ping/backup/start?key={PING_KEY}")).status_code == 200
    assert store.ping_state("backup").last_start is not None
    assert (await client.get(f"/ping/backup/0?key={PING_KEY}")).status_code == 200
    assert store.ping_state("backup").last_exit_code == 0
    assert (await client.get(f"/ping/backup/3?key={PING_KEY}")).status_code == 200
    state = store.ping_state("backup")
    assert state.last_fail is not None and state.last_exit_code == 3
    assert (await client.get(f"/ping/backup/fail?key={PING_KEY}")).status_code == 200
    await settled(served_sqlite)
    latest = store.latest_results()["backup"]
    assert latest.status.label == "critical" and "reported failure" in latest.summary
    assert (await client.get(f"/ping/backup/256?key={PING_KEY}")).status_code == 404
    assert (await client.get(f"/ping/backup/whatever?key={PING_KEY}")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/ping/backup",
        "/ping/backup?key=",
        "/ping/backup?key=wrong",
        f"/ping/backup?key={PING_KEY}x",
        f"/ping/nope?key={PING_KEY}",
        f"/ping/fine?key={PING_KEY}",
    ],
    ids=["no-key", "empty-key", "wrong-key", "longer-key", "unknown-check", "not-a-heartbeat"],
)
async def test_wrong_keys_and_unknown_checks_get_the_same_404_and_record_nothing(
    served_sqlite: Served, path: str
) -> None:
    response = await served_sqlite.client.post(path)
    assert response.status_code == 404 and response.text == "404 not found\n"
    assert served_sqlite.store.ping_state("backup").last_ping is None


async def test_a_generated_key_is_stored_once_and_stays_the_same_across_restarts(
    served: Served, tmp_path: Path
) -> None:
    config = served.config
    key = ping_key(config, served.store, "nightly")
    assert len(key) >= 20 and key in config.redactor  # masked in logs from now on
    reopened = Store.open(config.database_url)
    try:
        assert ping_key(load_config(tmp_path / "schedules.yaml"), reopened, "nightly") == key
    finally:
        reopened.close()
    assert (await served.client.get(f"/ping/nightly?key={key}")).status_code == 200
    assert (await served.client.get(f"/ping/nightly?key={PING_KEY}")).status_code == 404
    assert ping_key(config, served.store, "backup") == PING_KEY  # a configured key wins


async def test_ping_url_uses_public_url_or_the_listen_address(served_sqlite: Served) -> None:
    server = served_sqlite.config.document.server
    assert ping_url(server, "backup", "a b/c") == "http://127.0.0.1:0/ping/backup?key=a%20b%2Fc"
    public = server.model_copy(update={"public_url": "https://checks.example.com/"})
    assert ping_url(public, "nightly backup", "k") == "https://checks.example.com/ping/nightly%20backup?key=k"


async def _chunks(total: int, size: int = 8192) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


async def test_request_bodies_are_bounded(served_sqlite: Served) -> None:
    client = served_sqlite.client
    url = f"/ping/backup?key={PING_KEY}"
    assert (await client.post(url, content=b"x" * MAX_BODY)).status_code == 200
    assert (await client.post(url, content=b"x" * (MAX_BODY + 1))).status_code == 413
    streamed = await client.post(url, content=_chunks(4 * MAX_BODY))  # chunked: no Content-Length
    assert streamed.status_code == 413


async def test_the_access_log_never_records_query_strings(
    served_sqlite: Served, all_logs: pytest.LogCaptureFixture
) -> None:
    await served_sqlite.client.post(f"/ping/backup?key={PING_KEY}")
    await served_sqlite.client.post("/ping/backup?key=some-wrong-key")
    await settled(served_sqlite)
    access = [r.getMessage() for r in all_logs.records if r.name == "checkrunner.web.access"]
    assert any("path=/ping/backup status=200" in line for line in access)
    assert any("path=/ping/backup status=404" in line for line in access)
    ours = [r for r in all_logs.records if r.name.startswith(("checkrunner", "uvicorn"))]
    everything = "\n".join(r.getMessage() for r in ours)
    assert PING_KEY not in everything and "some-wrong-key" not in everything and "key=" not in everything
    assert not any(r.levelno >= logging.ERROR for r in all_logs.records)


def ping_url_command(config: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checkrunner", "--config", str(config), "ping-url", name],
        capture_output=True, text=True, timeout=60, check=False, cwd=config.parent, env={"PYTHONPATH": str(REPO)},
    )  # fmt: skip


def test_ping_url_command_prints_the_full_url_with_the_stored_key(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    first = ping_url_command(config, "nightly")
    assert first.returncode == 0, first.stderr
    url = first.stdout.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:0/ping/nightly\?key=[A-Za-z0-9_\-]{20,}", url), url
    assert ping_url_command(config, "nightly").stdout.strip() == url  # generated once, stored, stable
    assert (
        ping_url_command(config, "backup").stdout.strip() == f"http://127.0.0.1:0/ping/backup?key={PING_KEY}"
    )
    wrong = ping_url_command(config, "fine")
    assert wrong.returncode == 2 and wrong.stdout == ""
    (line,) = wrong.stderr.splitlines()  # one line, no traceback
    assert line.startswith("checkrunner: 'fine' is not a heartbeat check") and "backup, nightly" in line
