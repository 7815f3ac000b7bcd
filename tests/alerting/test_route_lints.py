"""validate's route coverage warnings, through the loader as the CLI and the daemon call it."""

from __future__ import annotations

from pathlib import Path

from checkrunner.app import load_config

OFFICE_HOURS_ONLY = """\
timezone: UTC
channels:
  ops: {url: "json://127.0.0.1:9/x"}
checks:
  api: {type: http, url: "http://127.0.0.1:9/", every: 1m}
  job: {type: command, run: [/bin/true], every: 1m}
  pager: {type: command, run: [/bin/true], every: 1m, severity: critical}
alerting:
  routes:
    - match: {severity: critical}
      to: [ops]
    - match: {severity: [warning, unknown]}
      to: [ops]
      when: {days: [mon, tue, wed, thu, fri], between: "08:00-20:00"}
"""


def test_statuses_outside_every_routes_window_are_named_per_check(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(OFFICE_HOURS_ONLY)
    warnings = {p.path: p.render() for p in load_config(path, {}).warnings}
    # api (http, no warn threshold) cannot be warning; job (command) can; pager is always critical.
    assert warnings["checks.api"].endswith(
        "checks.api: warning: unknown reaches no channel on mon at 00:00 (add a route or alerting.default)"
    )
    assert "warning reaches no channel on mon at 00:00; unknown reaches" in warnings["checks.job"]
    assert warnings["checks.api"].startswith(f"{path}:5:8:")  # the value of checks.api
    assert "checks.pager" not in warnings


def test_a_default_covers_every_gap(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(OFFICE_HOURS_ONLY + "  default: [ops]\n")
    assert [p for p in load_config(path, {}).warnings if p.path.startswith("checks.")] == []
