"""The demo application's log file and database: growth, holds, rotation, crash recovery."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.appdata import ARCHIVES_KEPT, AppDb, AppLog, new_rows
from tests.demo.support import TZ

RECENT = "SELECT COUNT(*) FROM educational_content WHERE created_at >= datetime(?, '-24 hours')"


def _count(path: Path, query: str, *args: object) -> int:
    with sqlite3.connect(path) as db:
        (value,) = db.execute(query, args).fetchone()
    assert isinstance(value, int)
    return value


def _sql_now(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("hour", [0, 7, 13, 23], ids=["midnight", "early", "afternoon", "late"])
def test_a_fresh_database_holds_a_week_of_content_at_any_hour(tmp_path: Path, hour: int) -> None:
    now = datetime(2026, 3, 10, hour, 15, tzinfo=TZ)
    db = AppDb(tmp_path / "app.db", TZ, random.Random(3))
    db.catch_up(now)
    db.close()
    assert _count(tmp_path / "app.db", RECENT, _sql_now(now)) >= 10  # the example's warn: "< 10"
    oldest = _count(tmp_path / "app.db", "SELECT COUNT(*) FROM educational_content WHERE created_at < ?",
                    _sql_now(now - timedelta(days=6)))  # fmt: skip
    assert oldest > 0


def test_a_restart_after_days_away_fills_the_gap(tmp_path: Path) -> None:
    then = datetime(2026, 3, 10, 12, tzinfo=TZ)
    db = AppDb(tmp_path / "app.db", TZ, random.Random(3))
    db.catch_up(then)
    db.close()
    later = then + timedelta(days=3)
    db = AppDb(tmp_path / "app.db", TZ, random.Random(4))
    added = db.catch_up(later)
    db.close()
    assert added["educational_content"] > 0 and added["events"] > 0
    assert _count(tmp_path / "app.db", RECENT, _sql_now(later)) >= 10


def test_rows_arrive_with_the_traffic_busier_by_day_than_by_night() -> None:
    day = datetime(2026, 3, 10, tzinfo=TZ)
    rng = random.Random(5)
    morning = new_rows("events", day.replace(hour=8), day.replace(hour=12), TZ, rng)
    night = new_rows("events", day.replace(hour=1), day.replace(hour=5), TZ, rng)
    assert len(morning) > 3 * len(night) > 0


@pytest.mark.parametrize(
    ("rows", "expected"), [(3, 3), (0, 0), (None, None)], ids=["stand-in", "empty", "no-table"]
)
def test_a_held_table_shows_its_stand_in_and_comes_back_whole(tmp_path: Path, rows: int | None, expected: int | None) -> None:  # fmt: skip
    now = datetime.now(TZ)
    db = AppDb(tmp_path / "app.db", TZ, random.Random(3))
    db.catch_up(now)
    total = _count(tmp_path / "app.db", "SELECT COUNT(*) FROM educational_content")
    db.hold("educational_content", rows)
    if expected is None:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            _count(tmp_path / "app.db", "SELECT COUNT(*) FROM educational_content")
    else:
        assert _count(tmp_path / "app.db", "SELECT COUNT(*) FROM educational_content") == expected
    db.release("educational_content")
    assert _count(tmp_path / "app.db", "SELECT COUNT(*) FROM educational_content") == total
    db.close()


def test_a_table_left_held_by_a_killed_demo_is_restored_at_start(tmp_path: Path) -> None:
    db = AppDb(tmp_path / "app.db", TZ, random.Random(3))
    db.catch_up(datetime.now(TZ))
    total = _count(tmp_path / "app.db", "SELECT COUNT(*) FROM events")
    db.hold("events", 0)
    db.close()  # no release: as if killed
    AppDb(tmp_path / "app.db", TZ, random.Random(3)).close()
    assert _count(tmp_path / "app.db", "SELECT COUNT(*) FROM events") == total


def test_holding_the_log_moves_the_same_file_aside_and_back(tmp_path: Path) -> None:
    log = AppLog(tmp_path / "app.log")
    now = datetime.now(TZ)
    log.write(now, "INFO", "before")
    inode = (tmp_path / "app.log").stat().st_ino
    log.hold()
    log.write(now, "ERROR", "while held")
    assert not (tmp_path / "app.log").exists()
    log.release()
    log.close()
    assert (tmp_path / "app.log").stat().st_ino == inode  # a log check resumes where it was
    assert (tmp_path / "app.log").read_text().splitlines()[-1].endswith("ERROR    while held")


def test_a_log_left_aside_by_a_killed_demo_is_put_back(tmp_path: Path) -> None:
    log = AppLog(tmp_path / "app.log")
    log.write(datetime.now(TZ), "INFO", "kept")
    log.hold()
    log.close()  # no release: as if killed
    AppLog(tmp_path / "app.log").close()
    assert (tmp_path / "app.log").read_text().endswith("INFO     kept\n")
    assert not (tmp_path / "app.log.held").exists()


def test_rotation_keeps_the_newest_archives_only(tmp_path: Path) -> None:
    log = AppLog(tmp_path / "app.log")
    start = datetime(2026, 3, 10, 2, tzinfo=TZ)
    for day in range(ARCHIVES_KEPT + 2):
        log.write(start + timedelta(days=day), "INFO", f"day {day}")
        log.rotate(start + timedelta(days=day))
    log.close()
    archives = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert len(archives) == ARCHIVES_KEPT
    assert archives[0] == "app-20260312-020000.log.gz"
    assert (tmp_path / "app.log").read_text() == ""
