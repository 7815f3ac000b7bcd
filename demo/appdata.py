"""The demo application's own data: its log file and its SQLite database (thread-safe).

:class:`AppLog` appends timestamped lines to ``app.log``: INFO traffic lines always, ERROR and
CRITICAL lines while a log check is bent. ``hold()`` moves the file aside (``app.log.held``) so
that a log check finds it missing; ``release()`` puts the same file (same inode) back, so a
check resumes where it was. ``rotate()`` is the runbooks' "tar and truncate": the file is
gzipped into ``logs/`` and a new one is started (a new inode: log checks restart at its top).

:class:`AppDb` keeps ``app.db`` with the tables runbooks 001 and 004 query
(``educational_content``, ``events``). Rows arrive in proportion to traffic, and at start the
time the demo was not running is backfilled, so "rows of the last 24 hours" is right after any
start. ``hold(table, rows)`` sets a table aside behind a stand-in holding its ``rows`` newest
rows (``None``: no table at all). Times are UTC text ``YYYY-MM-DD HH:MM:SS``, the format of
SQLite's ``datetime('now')``, so ``created_at >= datetime('now', '-24 hours')`` compares right.
"""

from __future__ import annotations

import gzip
import os
import random
import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO

from demo.model import traffic

SCHEMAS = {
    "educational_content": "id INTEGER PRIMARY KEY, title TEXT NOT NULL, content_type TEXT NOT NULL, "
    "quality_score REAL NOT NULL, created_at TEXT NOT NULL",
    "events": "id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, mcp_method TEXT NOT NULL, "
    "risk_level INTEGER NOT NULL, timestamp TEXT NOT NULL",
}
TIME_COLUMN = {"educational_content": "created_at", "events": "timestamp"}
#: Rows per hour at peak traffic (runbook 001: a few generated contents an hour; 004: events).
PEAK_PER_HOUR = {"educational_content": 4.0, "events": 120.0}
#: How far back an empty table is filled, and how long rows are kept (None: forever).
BACKFILL = {"educational_content": timedelta(days=7), "events": timedelta(days=2)}
KEEP = {"educational_content": None, "events": timedelta(days=7)}
SLOT = timedelta(minutes=5)
TOPICS = ("Fractions", "Photosynthesis", "World War II", "Python loops", "Cell biology", "Algebra")
KINDS = ("lesson_plan", "quiz", "study_guide", "flashcards", "podcast_script")
METHODS = ("tools/call", "resources/read", "prompts/get", "tools/list")
ARCHIVES_KEPT = 7


def db_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class AppLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.held_path = path.with_name(path.name + ".held")
        self.archive_dir = path.parent / "logs"
        self.held = False
        self._lock = threading.Lock()
        if self.held_path.exists():  # left aside by a demo that was killed while bent
            if path.exists():
                with self.held_path.open("rb") as src, path.open("ab") as dest:
                    shutil.copyfileobj(src, dest)
                self.held_path.unlink()
            else:
                os.replace(self.held_path, path)
        self._file: TextIO = path.open("a", encoding="utf-8")

    def write(self, now: datetime, level: str, text: str) -> None:
        with self._lock:
            self._file.write(f"{now.isoformat(timespec='milliseconds')} {level:<8} {text}\n")
            self._file.flush()

    def hold(self) -> None:
        with self._lock:
            if not self.held:
                os.replace(self.path, self.held_path)  # the open handle follows the inode
                self.held = True

    def release(self) -> None:
        with self._lock:
            if self.held:
                os.replace(self.held_path, self.path)
                self.held = False

    def rotate(self, now: datetime) -> dict[str, Any]:
        """Archive the current file into logs/ (gzip) and start an empty one.

        Rename first and create the new file while the old one still exists, as logrotate
        does: the new file gets a new inode, so log checks see the rotation."""
        with self._lock:
            current = self.held_path if self.held else self.path
            rotating = current.with_name(current.name + ".rotating")
            self._file.close()
            os.replace(current, rotating)
            self._file = current.open("a", encoding="utf-8")
            self.archive_dir.mkdir(exist_ok=True)
            target = self.archive_dir / f"app-{now.strftime('%Y%m%d-%H%M%S')}.log.gz"
            size = rotating.stat().st_size
            with rotating.open("rb") as src, gzip.open(target, "wb") as dest:
                shutil.copyfileobj(src, dest)
            rotating.unlink()
            old = sorted(self.archive_dir.glob("app-*.log.gz"))[:-ARCHIVES_KEPT]
            for path in old:
                path.unlink()
        return {"archived": target.name, "bytes": size, "archives_removed": len(old)}

    def close(self) -> None:
        with self._lock:
            self._file.close()


def new_rows(table: str, start: datetime, end: datetime, tz: tzinfo, rng: random.Random) -> list[tuple[Any, ...]]:  # fmt: skip
    """Rows that arrived in (start, end], at the traffic of each moment's local hour."""
    rows: list[tuple[Any, ...]] = []
    slot_start = start
    while slot_start < end:
        slot_end = min(slot_start + SLOT, end)
        local = slot_start.astimezone(tz)
        hours = (slot_end - slot_start).total_seconds() / 3600
        expected = PEAK_PER_HOUR[table] * traffic(local.hour + local.minute / 60) * hours
        count = int(expected) + (1 if rng.random() < expected % 1 else 0)
        for _ in range(count):
            moment = slot_start + (slot_end - slot_start) * rng.random()
            rows.append(_row(table, moment, rng))
        slot_start = slot_end
    return rows


def _row(table: str, moment: datetime, rng: random.Random) -> tuple[Any, ...]:
    if table == "educational_content":
        quality = min(max(rng.gauss(0.8, 0.04), 0.6), 0.98)
        kind = rng.choice(KINDS)
        return (f"{rng.choice(TOPICS)}: {kind.replace('_', ' ')}", kind, round(quality, 3), db_time(moment))
    risk = min(10, int(rng.expovariate(0.5)) + 1)
    return (f"cust-{rng.randint(1, 400):04d}", rng.choice(METHODS), risk, db_time(moment))


class AppDb:
    def __init__(self, path: Path, tz: tzinfo, rng: random.Random) -> None:
        self.path = path
        self.tz = tz
        self.rng = rng
        self.held: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5)
        # WAL: checkrunner's sql check reads while the demo writes, without "database is locked".
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        for table, schema in SCHEMAS.items():
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({schema})")
            if self._exists(f"{table}__held"):  # set aside by a demo that was killed while bent
                self._release(table)

    def _exists(self, table: str) -> bool:
        found = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,))
        return found.fetchone() is not None

    def _insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            columns = [c.split()[0] for c in SCHEMAS[table].split(", ")][1:]
            marks = ", ".join("?" * len(columns))
            self._conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def catch_up(self, now: datetime) -> dict[str, int]:
        """Backfill each table from its newest row (or BACKFILL ago) to now; drop expired rows."""
        added: dict[str, int] = {}
        with self._lock:
            self._conn.execute("BEGIN")
            for table, column in TIME_COLUMN.items():
                if table in self.held:
                    continue
                newest = self._conn.execute(f"SELECT MAX({column}) FROM {table}").fetchone()[0]
                start = now - BACKFILL[table]
                if newest:
                    start = max(start, datetime.fromisoformat(newest).replace(tzinfo=UTC))
                rows = new_rows(table, start, now, self.tz, self.rng)
                self._insert(table, rows)
                added[table] = len(rows)
                if (keep := KEEP[table]) is not None:
                    self._conn.execute(f"DELETE FROM {table} WHERE {column} < ?", (db_time(now - keep),))
            self._conn.execute("COMMIT")
        return added

    def tick(self, start: datetime, end: datetime) -> None:
        """New rows for (start, end] in every table that is not held (generation is paused)."""
        with self._lock:
            for table in SCHEMAS:
                if table not in self.held:
                    self._insert(table, new_rows(table, start, end, self.tz, self.rng))

    def hold(self, table: str, rows: int | None) -> None:
        with self._lock:
            if table not in self.held:
                self._conn.execute(f"ALTER TABLE {table} RENAME TO {table}__held")
            self._conn.execute(f"DROP TABLE IF EXISTS {table}")
            if rows is not None:
                self._conn.execute(f"CREATE TABLE {table} ({SCHEMAS[table]})")
                order = TIME_COLUMN[table]
                self._conn.execute(
                    f"INSERT INTO {table} SELECT * FROM {table}__held ORDER BY {order} DESC LIMIT ?", (rows,)
                )
            self.held[table] = rows

    def release(self, table: str) -> None:
        with self._lock:
            if table in self.held:
                self._release(table)
                del self.held[table]

    def _release(self, table: str) -> None:
        self._conn.execute(f"DROP TABLE IF EXISTS {table}")
        self._conn.execute(f"ALTER TABLE {table}__held RENAME TO {table}")

    def optimize(self) -> dict[str, Any]:
        """Runbook 000's database-optimize, for real: VACUUM and ANALYZE."""
        with self._lock:
            before = self.path.stat().st_size
            self._conn.execute("VACUUM")
            self._conn.execute("ANALYZE")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            counts = {t: self._conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in SCHEMAS}
        return {"tables": counts, "bytes_before": before, "bytes_after": self.path.stat().st_size}

    def close(self) -> None:
        with self._lock:
            self._conn.close()
