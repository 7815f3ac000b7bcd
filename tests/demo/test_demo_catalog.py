"""The catalog of example checks: it covers schedules.yaml, and every mode lands in its band."""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime

import pytest

from checkrunner.core.status import Status
from demo.catalog import MODES, TARGETS, Mode, Unsupported, check_mode, http_fault, supported_modes
from tests.demo.support import REPO, TZ, example, render, verdict

BASE = "http://127.0.0.1:8099"


def test_every_example_check_has_a_demo_target_and_no_target_is_left_over() -> None:
    assert set(TARGETS) == set(example()["checks"])


def _endpoint(check: str) -> tuple[str, str]:
    """(method, path) the example check calls: its URL, or the endpoint its script reads."""
    spec = example()["checks"][check]
    if spec["type"] == "http":
        return spec.get("method", "GET"), urllib.parse.urlsplit(render(spec["url"], BASE)).path
    # A command check: the endpoint its subcommand of monitoring_commands.py fetches.
    script, command = spec["run"][1], spec["run"][-1]
    match = re.search(rf'def {command}\(\).*?fetch\("([^"]+)"\)', (REPO / script).read_text(), re.S)
    assert match, f"{script} has no {command!r} command"
    return "GET", "/api/v1" + match[1]


HTTP_TARGETS = sorted(name for name, t in TARGETS.items() if t.kind == "http")


@pytest.mark.parametrize("check", HTTP_TARGETS, ids=HTTP_TARGETS)
def test_the_target_reads_the_endpoint_the_example_check_calls(check: str) -> None:
    assert _endpoint(check) == (TARGETS[check].method, TARGETS[check].path)


@pytest.mark.parametrize(
    ("check", "modes"),
    [
        ("api-latency", "ok warning critical unknown"),
        ("api-health", "ok warning critical unknown"),
        ("handoff", "ok critical unknown"),
        ("optimize-db", "ok critical unknown"),
        ("error-logs", "ok warning critical unknown"),
        ("critical-logs", "ok critical unknown"),
        ("recent-content", "ok warning critical unknown"),
        ("recent-events", "ok critical unknown"),
        ("cert", "ok warning critical"),
        ("nightly-backup", "ok critical"),
        ("ops-report", "ok"),
        ("disk", "ok"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else "",
)
def test_each_check_reaches_exactly_the_modes_its_thresholds_allow(check: str, modes: str) -> None:
    assert supported_modes(TARGETS[check]) == tuple(modes.split())


@pytest.mark.parametrize(
    ("check", "mode", "message"),
    [
        ("disk", "warning", "disk cannot be warning under the example thresholds: check_disk reads"),
        (
            "handoff",
            "warning",
            "handoff cannot be warning under the example thresholds (modes: ok, critical, unknown)",
        ),
        ("api-latency", "broken", "unknown mode 'broken' (ok, warning, critical, unknown)"),
    ],
    ids=["host-check", "no-warn-threshold", "unknown-mode"],
)
def test_an_unreachable_mode_is_refused_with_one_line(check: str, mode: str, message: str) -> None:
    with pytest.raises(Unsupported) as info:
        check_mode(TARGETS[check], mode)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


BENT = [
    (name, mode)
    for name in HTTP_TARGETS
    for mode in supported_modes(TARGETS[name])
    if mode in ("warning", "critical") and example()["checks"][name]["type"] == "http"
]


@pytest.mark.parametrize("hour", [3, 8, 15], ids=["night", "rising", "afternoon"])
@pytest.mark.parametrize(("check", "mode"), BENT, ids=[f"{c}-{m}" for c, m in BENT])
def test_a_bent_value_lands_in_its_modes_band_under_the_example_thresholds(
    check: str, mode: str, hour: int
) -> None:
    fault = http_fault(TARGETS[check], check_mode(TARGETS[check], mode), hour)
    if fault.status != 200 or fault.delay:
        assert (fault.status >= 500) == (mode == "critical")  # a 503 fails `expect`; a delay breaches latency
        return
    value = fault.overrides[TARGETS[check].field]
    assert isinstance(value, int | float)
    now = datetime(2026, 3, 10, hour, 30, tzinfo=TZ)
    assert verdict(check, float(value), now) is Status.parse(mode)


@pytest.mark.parametrize("mode", MODES, ids=MODES)
def test_unknown_is_an_html_page_and_ok_bends_nothing(mode: Mode) -> None:
    fault = http_fault(TARGETS["api-latency"], mode, 12)
    assert fault.html is (mode == "unknown")
    assert (not fault.overrides and not fault.delay and fault.status == 200) is (mode in ("ok", "unknown"))
