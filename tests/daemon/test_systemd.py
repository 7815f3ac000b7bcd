"""Under systemd (Type=notify) the daemon reports readiness, watchdog keep-alives and stopping."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from checkrunner.daemon.systemd import Notifier
from tests.daemon.support import start, wait_until


def listen(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    return sock


def drain(sock: socket.socket) -> list[str]:
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except BlockingIOError:
            return messages


def test_notifier_without_systemd_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.ready() and notifier.watchdog_interval is None


def test_notifier_sends_to_the_notify_socket(tmp_path: Path) -> None:
    sock = listen(tmp_path / "notify")
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "4000000"})
    assert notifier.watchdog_interval == 2.0
    assert notifier.ready() and notifier.watchdog()
    assert drain(sock) == ["READY=1\nSTATUS=scheduling", "WATCHDOG=1"]
    sock.close()


@pytest.mark.slow
def test_daemon_reports_ready_keepalives_and_stopping(tmp_path: Path, sqlite_url: str) -> None:
    sock = listen(tmp_path / "notify")
    config = tmp_path / "schedules.yaml"
    config.write_text(
        f'database: "{sqlite_url}"\nalerting: {{default: []}}\nserver: {{listen: "127.0.0.1:0"}}\n'
        "checks:\n  t: {type: command, run: [/bin/true], every: 1m}\n"
    )
    received: list[str] = []
    daemon = start(config, env={"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"})
    try:
        wait_until(
            lambda: received.extend(drain(sock)) or sum(m == "WATCHDOG=1" for m in received) >= 2,
            20,
            "keep-alives",
        )
    finally:
        assert daemon.stop() == 0, daemon.text()
    received.extend(drain(sock))
    assert received[0].startswith("READY=1")
    assert received[-1] == "STOPPING=1"
    sock.close()
