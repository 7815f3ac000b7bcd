"""A real `checkrunner run` subprocess: fires on time, accounts for every fire, reloads, stops cleanly."""

from __future__ import annotations

import signal
import textwrap
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from checkrunner.store import Store
from tests.daemon.support import Daemon, fires, result_count, start, wait_until

pytestmark = pytest.mark.slow


def write_config(folder: Path, body: str, db_url: str) -> Path:
    path = folder / "schedules.yaml"
    path.write_text(
        f'timezone: America/Sao_Paulo\ndatabase: "{db_url}"\nalerting: {{default: []}}\n'
        # Port 0: daemons of parallel tests (and two daemons of one test) never share a port.
        'server: {listen: "127.0.0.1:0"}\n'
        + textwrap.dedent(body)
    )
    return path


def test_every_second_cadence_fires_unique_consecutive_times(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(
        tmp_path,
        """\
    checks:
      tick: {type: command, run: [/bin/echo, "n=1"], every: 1s}
    """,
        sqlite_url,
    )
    daemon = start(config)
    try:
        wait_until(
            lambda: len([f for f in fires(sqlite_url, "monitor:tick") if f[2] == "ran"]) >= 4, 20, "4 fires"
        )
    finally:
        assert daemon.stop() == 0, daemon.text()
    ran = [f[1] for f in fires(sqlite_url, "monitor:tick") if f[2] == "ran"]
    assert len(ran) == len(set(ran))
    assert all(b - a == timedelta(seconds=1) for a, b in pairwise(ran)), ran
    assert all(at.microsecond == 0 for at in ran)  # aligned to whole seconds
    assert result_count(sqlite_url, "tick") == len(ran)
    assert "stopped cleanly" in daemon.text()
    assert "job=monitor:tick check=tick status=ok" in daemon.text()


def test_restart_after_downtime_runs_the_owed_fire_once_and_records_missed(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(
        tmp_path,
        """\
    checks:
      tick: {type: command, run: [/bin/true], every: 1s, misfire_grace: 3s}
    """,
        sqlite_url,
    )
    seeded = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=12)
    with Store.open(sqlite_url) as store:
        assert store.claim_fires([("monitor:tick", seeded)], "earlier", seeded)
        store.finish_fire("monitor:tick", seeded, "ran", seeded, None)
    daemon = start(config)
    try:
        wait_until(lambda: "catch-up job=monitor:tick" in daemon.text(), 20, "the catch-up run")
        wait_until(lambda: len(fires(sqlite_url, "monitor:tick")) >= 16, 20, "live fires after the catch-up")
    finally:
        assert daemon.stop() == 0, daemon.text()
    rows = fires(sqlite_url, "monitor:tick")
    times = [r[1] for r in rows]
    # every second from the seeded fire on has exactly one row: nothing lost, nothing doubled
    assert times == [seeded + timedelta(seconds=i) for i in range(len(times))], times
    outcomes = [r[2] for r in rows]
    assert outcomes.count("missed") >= 6
    assert "claimed" not in outcomes
    first_live = next(i for i, r in enumerate(rows) if r[2] == "ran" and i > 0)
    # between the seed and the live fires: missed ones, then coalesced (skipped), then one catch-up run
    assert set(outcomes[1:first_live]) <= {"missed", "skipped"}


def test_overlapping_fire_is_recorded_as_skipped(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(
        tmp_path,
        """\
    checks:
      slow: {type: command, run: [/bin/sleep, "2.5"], every: 1s, timeout: 10s}
    """,
        sqlite_url,
    )
    daemon = start(config)
    try:
        wait_until(
            lambda: any(f[2] == "skipped" for f in fires(sqlite_url, "monitor:slow")), 20, "a skipped fire"
        )
    finally:
        assert daemon.stop() == 0, daemon.text()
    assert "still_running=1" in daemon.text()


def start_with_a_run_in_flight(tmp_path: Path, sqlite_url: str, seconds: int) -> Daemon:
    """A daemon whose one check sleeps ``seconds``, returned once a run of it is in flight."""
    body = f"""\
    checks:
      slow: {{type: command, run: [/bin/sleep, "{seconds}"], every: 1m, timeout: {seconds + 10}s}}
    monitors:
      now: {{checks: [slow], cadence: [{{every: 1s}}]}}
    """
    daemon = start(write_config(tmp_path, body, sqlite_url))
    try:
        # Claimed and due: running (fires are also claimed up to a second before they are due).
        wait_until(
            lambda: any(
                f[2] == "claimed" and f[1] < datetime.now(UTC) - timedelta(seconds=0.2)
                for f in fires(sqlite_url, "monitor:now")
            ),
            20,
            "a run in flight",
        )
    except AssertionError:
        daemon.stop()
        raise
    return daemon


def test_sigterm_lets_the_running_check_finish_and_exits_zero(tmp_path: Path, sqlite_url: str) -> None:
    daemon = start_with_a_run_in_flight(tmp_path, sqlite_url, seconds=3)
    try:
        daemon.signal(signal.SIGTERM)
        assert daemon.proc.wait(20) == 0
    finally:
        if daemon.proc.poll() is None:
            daemon.stop()
    assert result_count(sqlite_url, "slow") >= 1
    assert not [f for f in fires(sqlite_url, "monitor:now") if f[2] == "claimed"], (
        "a claimed fire was left unfinished"
    )
    assert "stopped cleanly" in daemon.text()


@pytest.mark.parametrize("how", ["rename", "in-place"], ids=["atomic-rename", "written-in-place"])
def test_reload_applies_valid_edits_and_keeps_the_last_good_config(
    tmp_path: Path, sqlite_url: str, how: str
) -> None:
    body = """\
    checks:
      a: {type: command, run: [/bin/true], every: 1s}
    """
    config = write_config(tmp_path, body, sqlite_url)

    def rewrite(text: str) -> None:
        if how == "rename":
            temp = tmp_path / "schedules.yaml.tmp"
            temp.write_text(text)
            temp.replace(config)
        else:
            config.write_text(text)

    daemon = start(config)
    try:
        wait_until(lambda: result_count(sqlite_url, "a") >= 1, 20, "check a to run")
        text = config.read_text()
        rewrite(text + "  b: {type: command, run: [/bin/true], every: 1s}\n")
        wait_until(lambda: result_count(sqlite_url, "b") >= 2, 20, "added check b to run")
        rewrite(text + "  b: {type: command, run: [/bin/true], every: soon}\n")
        wait_until(lambda: "keeping the last good config" in daemon.text(), 20, "the rejected reload")
        assert f"{config}:7:" in daemon.text() and "checks.b.every: invalid duration 'soon'" in daemon.text()
        b_before = result_count(sqlite_url, "b")
        wait_until(
            lambda: result_count(sqlite_url, "b") >= b_before + 2,
            20,
            "b still running on the last good config",
        )
        rewrite(
            text.replace(
                "  a: {type: command, run: [/bin/true], every: 1s}\n",
                "  b: {type: command, run: [/bin/true], every: 1s}\n",
            )
        )
        wait_until(lambda: "1 removed" in daemon.text(), 20, "check a removed")
        a_after = result_count(sqlite_url, "a")
        b_now = result_count(sqlite_url, "b")
        wait_until(lambda: result_count(sqlite_url, "b") >= b_now + 2, 20, "b keeps running")
        assert result_count(sqlite_url, "a") <= a_after + 1  # at most one run in flight at the removal
    finally:
        assert daemon.stop() == 0, daemon.text()


def test_two_daemons_on_postgresql_share_the_work_and_never_run_a_fire_twice(
    tmp_path: Path, pg_url: str
) -> None:
    checks = "".join(f"  c{i}: {{type: command, run: [/bin/true], every: 1s}}\n" for i in range(6))
    config = write_config(tmp_path, "checks:\n" + checks, pg_url)
    first = start(config, "first.log")
    second = start(config, "second.log")
    try:
        wait_until(
            lambda: len({f[3] for f in fires(pg_url) if f[2] == "ran"}) == 2 and len(fires(pg_url)) >= 120,
            40,
            "both daemons running fires",
        )
        first.proc.kill()  # no clean stop: the other must take over
        first.proc.wait(10)
        killed_at = datetime.now(UTC)
        wait_until(
            lambda: len([f for f in fires(pg_url) if f[1] > killed_at + timedelta(seconds=1)]) >= 18,
            20,
            "fires after the kill",
        )
    finally:
        assert second.stop() == 0, second.text()
    rows = fires(pg_url)
    keys = [(r[0], r[1]) for r in rows]
    assert len(keys) == len(set(keys))
    for i in range(6):
        job = [r for r in rows if r[0] == f"monitor:c{i}"]
        ran = sum(r[2] == "ran" for r in job)
        claimed = sum(r[2] == "claimed" for r in job)  # the killed instance's runs in flight
        # one result per fire that ran: no fire ran twice, none that ran lost its result
        assert ran <= result_count(pg_url, f"c{i}") <= ran + claimed
    before = [r for r in rows if r[1] < killed_at - timedelta(seconds=1) and r[2] == "ran"]
    share = {
        instance: sum(1 for r in before if r[3] == instance) / len(before)
        for instance in {r[3] for r in before}
    }
    assert len(share) == 2 and min(share.values()) >= 0.30, share
    after = [r for r in rows if r[1] > killed_at + timedelta(seconds=1)]
    assert after and {r[3] for r in after} == {next(r[3] for r in after)}  # one instance does everything
    # takeover within the grace: no gap in any job's fire times after the kill
    for i in range(6):
        times = sorted(r[1] for r in after if r[0] == f"monitor:c{i}")
        assert all(b - a == timedelta(seconds=1) for a, b in pairwise(times)), times


def test_a_second_stop_signal_exits_at_once_but_a_duplicate_is_ignored(
    tmp_path: Path, sqlite_url: str
) -> None:
    daemon = start_with_a_run_in_flight(tmp_path, sqlite_url, seconds=20)
    try:
        daemon.signal(signal.SIGTERM)
        daemon.signal(signal.SIGTERM)  # what `timeout` does: the process, then its group
        time.sleep(1.5)
        assert daemon.proc.poll() is None, "a duplicate signal must not cut the graceful stop short"
        daemon.signal(signal.SIGINT)
        assert daemon.proc.wait(5) == 1
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(5)
    assert "exiting at once" in daemon.text()
