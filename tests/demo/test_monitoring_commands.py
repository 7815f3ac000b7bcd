"""demo/monitoring_commands.py: runbook 003's script, its lines and its exit codes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.demo.support import REPO, DemoProc

SCRIPT = REPO / "demo" / "monitoring_commands.py"


def script(base: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], env={**os.environ, "DEMO_API": base},
                          capture_output=True, text=True, timeout=30)  # fmt: skip


@pytest.mark.parametrize(
    ("command", "figure"),
    [
        ("delivery", "delivery success rate: "),
        ("handoff", "handoff violations: 0 ("),
        ("instances", "invalid instance patterns: 0 ("),
        ("consistency", "state id consistency: 100.0% ("),
        ("health", "health: healthy (4/4 components up)"),
    ],
    ids=["delivery", "handoff", "instances", "consistency", "health"],
)
def test_each_command_prints_one_green_line_with_its_figure(
    demo_proc: DemoProc, command: str, figure: str
) -> None:
    done = script(demo_proc.base, command)
    assert done.returncode == 0
    assert done.stdout.startswith(f"✅ {figure}") and done.stdout.count("\n") == 1


@pytest.mark.parametrize(
    ("bend", "code", "last"),
    [
        ({}, 0, "✅ report: 5 ok, 0 problem(s)"),
        ({"consistency": "warning"}, 1, "⚠️ report: 4 ok, 1 problem(s)"),
        ({"consistency": "warning", "delivery": "unknown"}, 3, "❓ report: 3 ok, 2 problem(s)"),
        ({"delivery": "unknown", "handoff": "critical"}, 2, "❌ report: 3 ok, 2 problem(s)"),
    ],
    ids=["all-ok", "a-warning", "unknown-beats-warning", "critical-beats-unknown"],
)
def test_report_prints_every_line_and_exits_with_the_worst(
    demo_proc: DemoProc, bend: dict[str, str], code: int, last: str
) -> None:
    for check, mode in bend.items():
        demo_proc.set(check, mode)
    done = script(demo_proc.base, "report")
    lines = done.stdout.splitlines()
    assert (done.returncode, len(lines), lines[-1]) == (code, 6, last)
    if "handoff" in bend:
        assert "❌ handoff violations: 2" in done.stdout and "ROLLBACK IMEDIATO" in done.stdout


def test_an_unreachable_service_is_critical_with_the_reason() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = script(f"http://127.0.0.1:{port}", "delivery")
    assert done.returncode == 2
    assert done.stdout.startswith(
        f"❌ delivery: cannot reach http://127.0.0.1:{port}/api/v1/monitoring/delivery"
    )


@pytest.mark.parametrize("args", [(), ("bogus",), ("delivery", "extra")], ids=["none", "unknown", "two"])
def test_a_wrong_command_prints_usage_and_exits_unknown(args: tuple[str, ...]) -> None:
    done = script("http://127.0.0.1:9", *args)
    assert done.returncode == 3
    assert done.stderr.startswith(
        "usage: monitoring_commands.py {health,delivery,handoff,instances,consistency,report}"
    )
