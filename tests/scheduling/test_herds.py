"""Herds of monitors sharing one cadence are spread by a stable offset per monitor; a shifted
cadence fires at its aligned times plus the offset, DST included."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from checkrunner.cli.schedule_table import job_rows
from checkrunner.config import load_config
from checkrunner.scheduling import Cadence, CadenceWindow
from checkrunner.scheduling.herds import HERD_SIZE, MAX_SPREAD, spread_herds

NEW_YORK = ZoneInfo("America/New_York")


def every(seconds: float, between: tuple[int, int] | None = None) -> Cadence:
    if between is None:
        return Cadence.build([CadenceWindow(None, None, timedelta(seconds=seconds))])
    start, end = (datetime(2026, 1, 1, hour).time() for hour in between)
    return Cadence.build([CadenceWindow(start, end, timedelta(seconds=seconds))])


def test_a_group_up_to_the_herd_size_stays_aligned() -> None:
    cadences = {f"m{i}": every(10) for i in range(HERD_SIZE)}
    assert spread_herds(cadences) == cadences


def test_a_herd_is_spread_over_slots_of_about_twenty_within_the_period() -> None:
    cadences = {f"m{i}": every(10) for i in range(320)}
    cadences["other"] = every(7)  # a group of one: untouched
    spread = spread_herds(cadences)
    offsets = [spread[f"m{i}"].offset for i in range(320)]
    # 320 members: 16 slots 625 ms apart, each holding a dozen or two of them.
    assert set(offsets) == {timedelta(milliseconds=625 * k) for k in range(16)}
    per_slot = Counter(offsets)
    assert min(per_slot.values()) >= 5 and max(per_slot.values()) <= 40, per_slot
    assert spread["other"].offset == timedelta(0)


def test_offsets_are_stable_while_the_herd_keeps_its_number_of_slots() -> None:
    herd = {f"m{i}": every(10) for i in range(HERD_SIZE + 1)}  # 51 members: 4 slots
    grown = {**herd, **{f"n{i}": every(10) for i in range(25)}}  # 76 members: still 4 slots
    first, second = spread_herds(herd), spread_herds(grown)
    assert all(first[name].offset == second[name].offset for name in herd)
    assert {c.offset for c in first.values()} == {timedelta(milliseconds=2500 * k) for k in range(4)}


def test_long_cadences_are_spread_over_at_most_a_minute() -> None:
    spread = spread_herds({f"m{i}": every(900) for i in range(80)})  # 4 slots, 15 s apart
    assert {c.offset for c in spread.values()} == {timedelta(seconds=15 * k) for k in range(4)}
    assert max(c.offset for c in spread.values()) < MAX_SPREAD


def test_a_shifted_cadence_fires_at_its_aligned_times_plus_the_offset_across_fall_back() -> None:
    base = every(1800)  # every 30 min, all day
    shifted = base.shifted(timedelta(seconds=17))
    after = datetime(2026, 11, 1, 4, 50, tzinfo=UTC)  # 00:50 EDT, the night New York falls back
    aligned = base.fires(after, NEW_YORK, 6)
    assert shifted.fires(after, NEW_YORK, 6) == [at + timedelta(seconds=17) for at in aligned]
    # Both passes of 01:00 and 01:30 (EDT, then EST) fire, 17 s late each.
    local = [
        (at.astimezone(NEW_YORK).strftime("%H:%M:%S"), at.astimezone(NEW_YORK).tzname())
        for at in shifted.fires(after, NEW_YORK, 6)
    ]
    assert local == [
        ("01:00:17", "EDT"),
        ("01:30:17", "EDT"),
        ("01:00:17", "EST"),
        ("01:30:17", "EST"),
        ("02:00:17", "EST"),
        ("02:30:17", "EST"),
    ]


def test_a_shifted_window_cadence_keeps_its_window() -> None:
    shifted = every(900, between=(8, 12)).shifted(timedelta(seconds=30))
    fires = shifted.fires_between(
        datetime(2026, 11, 23, 11, 0, tzinfo=UTC), datetime(2026, 11, 24, 9, 0, tzinfo=UTC), UTC
    )
    assert fires[:2] == [
        datetime(2026, 11, 23, 11, 0, 30, tzinfo=UTC),  # the 11:00 fire, 30 s late: after 11:00
        datetime(2026, 11, 23, 11, 15, 30, tzinfo=UTC),
    ]
    assert fires[-1] == datetime(2026, 11, 24, 8, 45, 30, tzinfo=UTC)
    assert datetime(2026, 11, 23, 11, 45, 30, tzinfo=UTC) in fires
    assert datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC) not in fires  # the window ends at 12:00


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(seconds=10), timedelta(seconds=11)])
def test_an_offset_outside_the_shortest_period_is_refused(offset: timedelta) -> None:
    with pytest.raises(ValueError, match="offset"):
        every(10).shifted(offset)


def test_a_config_with_a_herd_of_implicit_monitors_is_spread_and_validate_shows_it(tmp_path: Path) -> None:
    checks = "".join(
        f"  c{i}: {{type: command, run: [/bin/true], every: 10s}}\n" for i in range(HERD_SIZE + 1)
    )
    (tmp_path / "schedules.yaml").write_text("timezone: UTC\nalerting: {default: []}\nchecks:\n" + checks)
    config = load_config(tmp_path / "schedules.yaml", {})
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    rows = {row.id: row for row in job_rows(config, now)}
    for i in range(HERD_SIZE + 1):
        offset = config.monitors[f"c{i}"].cadence.offset
        row = rows[f"monitor:c{i}"]
        assert row.next[0] == now + offset if offset else row.next[0] == now + timedelta(seconds=10)
        assert [b - a for a, b in zip(row.next, row.next[1:], strict=False)] == [timedelta(seconds=10)] * 4
        assert ("spread +" in row.schedule) == bool(offset)
