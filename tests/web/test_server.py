"""Serving rules: exposure refusal, bind failures as one line, and the whole surface inside a
real `checkrunner run` subprocess (no secret or query string in its log)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx
import pytest

from checkrunner.config.model import Server
from checkrunner.core.errors import UsageError
from checkrunner.web.server import bind, check_exposure
from tests.daemon.support import start, wait_until
from tests.web.support import PING_KEY, TOKEN, write_config

STARTUP_S = 30.0
BODY = f"""\
checks:
  fine: {{type: command, run: [/bin/true], every: 1s}}
  backup: {{type: heartbeat, period: 1h, key: "{PING_KEY}"}}
"""


@pytest.mark.parametrize(
    ("listen", "token", "anonymous", "allowed"),
    [
        ("127.0.0.1:8090", None, False, True),
        ("localhost:8090", None, False, True),
        ("[::1]:8090", None, False, True),
        ("127.0.0.2:8090", None, False, True),
        ("0.0.0.0:8090", None, False, False),
        ("[::]:8090", None, False, False),
        ("checks.internal:8090", None, False, False),
        ("0.0.0.0:8090", TOKEN, False, True),
        ("0.0.0.0:8090", None, True, True),
    ],
    ids=[
        "ipv4-loopback",
        "localhost",
        "ipv6-loopback",
        "loopback-net",
        "any-v4",
        "any-v6",
        "hostname",
        "any-with-token",
        "any-anonymous-allowed",
    ],
)
def test_a_surface_reachable_from_other_machines_needs_a_token_or_an_explicit_opt_out(
    listen: str, token: str | None, anonymous: bool, allowed: bool
) -> None:
    server = Server(listen=listen, token=token, allow_anonymous=anonymous)
    if allowed:
        check_exposure(server)
    else:
        with pytest.raises(UsageError, match=r"server.token is empty.*allow_anonymous: true"):
            check_exposure(server)


def test_a_port_in_use_is_one_clear_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(UsageError) as caught:
            bind(f"127.0.0.1:{port}")
    message = str(caught.value)
    assert message == f"cannot listen on 127.0.0.1:{port} (server.listen): address already in use"


@pytest.mark.slow
def test_the_daemon_exits_2_with_one_line_when_its_port_is_taken(tmp_path: Path, sqlite_url: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        config = write_config(tmp_path, sqlite_url, BODY, f'server: {{listen: "127.0.0.1:{port}"}}')
        daemon = start(config)
        assert daemon.proc.wait(STARTUP_S) == 2
    errors = [line for line in daemon.text().splitlines() if line.startswith("checkrunner:")]
    assert errors == [
        f"checkrunner: cannot listen on 127.0.0.1:{port} (server.listen): address already in use"
    ]
    assert "Traceback" not in daemon.text()


@pytest.mark.slow
def test_the_daemon_refuses_a_public_address_without_a_token(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url, BODY, 'server: {listen: "0.0.0.0:0"}')
    daemon = start(config)
    assert daemon.proc.wait(STARTUP_S) == 2
    assert "Traceback" not in daemon.text()
    assert re.search(
        r"^checkrunner: server.listen 0.0.0.0:0 is reachable from other machines", daemon.text(), re.M
    )


@pytest.mark.slow
def test_a_running_daemon_serves_health_metrics_pages_api_and_pings_and_logs_no_secret(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(tmp_path, sqlite_url, BODY)  # 127.0.0.1:0 with TOKEN
    daemon = start(config)
    try:
        found = wait_until(
            lambda: re.search(r"web listening on http://127\.0\.0\.1:(\d+)/", daemon.text()),
            STARTUP_S,
            "web up",
        )
        base = f"http://127.0.0.1:{found[1]}"
        with httpx.Client(base_url=base, timeout=10) as client:
            wait_until(
                lambda: '"last_result":{' in client.get("/api/v1/checks", auth=("a", TOKEN)).text,
                10,
                "a result",
            )
            assert client.get("/healthz").json()["status"] == "ok"
            metrics = client.get("/metrics", auth=("a", TOKEN)).text
            assert re.search(
                r'checkrunner_fires_total\{outcome="ran",schedule="monitor:fine"\} [1-9]', metrics
            )
            assert client.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
            assert client.get("/").status_code == 401
            assert client.post(f"/ping/backup?key={PING_KEY}").status_code == 200
            assert client.post("/ping/backup", headers={"X-Ping-Key": PING_KEY}).status_code == 200
            assert client.post("/ping/backup?key=nope").status_code == 404
    finally:
        code = daemon.stop()
    log = daemon.text()
    assert code == 0, log[-3000:]
    assert "path=/ping/backup status=200" in log
    assert TOKEN not in log and PING_KEY not in log and "key=" not in log
    assert "Traceback" not in log
