"""``python -m demo``: the control commands, clean stops and one-line errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.demo.support import REPO, DemoProc, start_demo, stop_demo

CLI_TIMEOUT_S = 30


def demo_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "demo", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S)  # fmt: skip


def test_set_puts_one_check_into_a_mode_and_says_what_it_did(demo_proc: DemoProc) -> None:
    done = demo_cli("set", "api-latency", "critical", "--url", demo_proc.base)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "api-latency -> critical: avg_response_ms = 1500\n",
        "",
    )
    modes = json.loads(demo_cli("status", "--json", "--url", demo_proc.base).stdout)["modes"]
    assert modes["api-latency"] == "critical"


def test_set_all_lists_the_checks_it_skipped(demo_proc: DemoProc) -> None:
    done = demo_cli("set", "all", "unknown", "--url", demo_proc.base)
    assert done.returncode == 0
    assert "  skipped disk: disk cannot be unknown under the example thresholds" in done.stdout
    assert "checks -> unknown" in done.stdout.splitlines()[0]


def test_status_prints_one_line_per_check(demo_proc: DemoProc) -> None:
    done = demo_cli("status", "--url", demo_proc.base)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == len(json.loads(demo_cli("status", "--json", "--url",
                                                                          demo_proc.base).stdout)["modes"])  # fmt: skip
    assert any(line.split()[:3] == ["cert", "ok", "[ok/warning/critical]"] for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "disk", "warning"), "demo: disk cannot be warning under the example thresholds"),
        (("set", "nope", "ok"), "demo: unknown check 'nope'"),
    ],
    ids=["unreachable-mode", "unknown-check"],
)
def test_a_refused_set_exits_2_with_one_line(
    demo_proc: DemoProc, args: tuple[str, ...], message: str
) -> None:
    done = demo_cli(*args, "--url", demo_proc.base)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_set_without_a_running_demo_says_how_to_start_one() -> None:
    done = demo_cli("set", "api-latency", "ok", "--url", f"http://127.0.0.1:{_closed_port()}")
    assert done.returncode == 2
    assert "cannot reach the demo at" in done.stderr and "start it with: python -m demo serve" in done.stderr


def test_serve_on_a_busy_port_exits_2_with_one_line(demo_proc: DemoProc, tmp_path: Path) -> None:
    port = demo_proc.base.rsplit(":", 1)[1]
    done = demo_cli("serve", "--port", port, "--tls-port", "-1", "--data", str(tmp_path / "d"))
    assert done.returncode == 2
    assert done.stderr == "demo: cannot start: Address already in use (is another demo running?)\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_serve_stops_cleanly_on_a_signal(tmp_path: Path, sig: int) -> None:
    started = start_demo(tmp_path / "demo-data")
    assert stop_demo(started, sig) == 0
    assert started.output[-1] == "demo: stopped\n"
    assert not (tmp_path / "demo-data" / "app.log.held").exists()
