"""Reading what a benchmark daemon stored in its SQLite file: fires and results.

The daemon's own store is the record of what really happened: ``fires`` holds every fire
(``schedule``, ``scheduled_at``, ``outcome`` ran/skipped/missed/claimed), ``results`` every
check run (``check``, ``started_at``). Reads go through a read-only connection (WAL lets
them run while the daemon writes). Times are stored as naive UTC text and come back as
POSIX timestamps (float seconds).

Start lateness is taken from here rather than from the dispatcher's debug line
``fire job=… lateness_ms=…``: that line measures when the run's task was created, before it
waits for the dispatcher's concurrency limit, while ``results.started_at`` is when the check
really started; and reading the store needs no debug logging in the measured process.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact, so usable as a key)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _us(text: str) -> int:
    """Stored naive-UTC text -> integer microseconds since the epoch."""
    return micros(datetime.fromisoformat(text).replace(tzinfo=UTC))


@contextmanager
def _read(db: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        yield conn


def results_between(db: Path, start: float, end: float) -> int:
    """Results whose run started in [start, end)."""
    low, high = (datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f") for t in (start, end))
    with _read(db) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM results WHERE started_at >= ? AND started_at < ?", (low, high)
        ).fetchone()
    return int(row[0])


def outcomes(db: Path, start: float, end: float) -> Counter[str]:
    """Fire outcomes of fires scheduled in [start, end)."""
    low, high = (datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f") for t in (start, end))
    with _read(db) as conn:
        rows = conn.execute(
            "SELECT outcome, COUNT(*) FROM fires WHERE scheduled_at >= ? AND scheduled_at < ? GROUP BY outcome",
            (low, high),
        ).fetchall()
    return Counter({outcome: int(count) for outcome, count in rows})


@dataclass(frozen=True, slots=True)
class StartTimes:
    #: Start lateness in ms of the window's fires whose check started.
    lateness_ms: list[float]
    #: For fires still waiting (claimed or not) when the daemon stopped: how long they had
    #: waited by then, in ms, a lower bound of their lateness.
    waiting_ms: list[float]
    #: The window's fires recorded as skipped or missed (they never run).
    not_run: int


def start_times(
    db: Path, check_of: Mapping[str, str], due: Mapping[str, Sequence[int]], stopped_at: float
) -> StartTimes:
    """Lateness of the fires ``due[job]`` (see :func:`micros`) of one-check jobs (``check_of[job]``);
    ``stopped_at`` is when the daemon was stopped (POSIX seconds).

    A job's fires that ran and its check's results are paired in time order: each run of a
    one-check job stores exactly one result, and a job's run starts only after its previous run
    has finished (fire recorded included), so the k-th ran fire is the k-th result. A fire
    still ``claimed`` when the daemon stopped can only be a job's last one.
    """
    ran: dict[str, list[int]] = defaultdict(list)
    dropped: set[tuple[str, int]] = set()
    started: dict[str, list[int]] = defaultdict(list)
    with _read(db) as conn:
        for schedule, scheduled_at, outcome in conn.execute(
            "SELECT schedule, scheduled_at, outcome FROM fires ORDER BY scheduled_at"
        ):
            if outcome == "ran":
                ran[schedule].append(_us(scheduled_at))
            elif outcome in ("skipped", "missed"):
                dropped.add((schedule, _us(scheduled_at)))
        for check, started_at in conn.execute('SELECT "check", started_at FROM results ORDER BY started_at'):
            started[check].append(_us(started_at))
    lateness: list[float] = []
    waiting: list[float] = []
    not_run = 0
    for job, times in due.items():
        runs = started.get(check_of.get(job, ""), [])
        began = dict(zip(ran.get(job, []), runs, strict=False))
        for key in times:
            if key in began:
                lateness.append((began[key] - key) / 1000)
            elif (job, key) in dropped:
                not_run += 1
            else:
                waiting.append(stopped_at * 1000 - key / 1000)
    return StartTimes(lateness, waiting, not_run)
