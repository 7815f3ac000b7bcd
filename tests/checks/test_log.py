"""The log check on real files: first run, appends, partial lines, rotation, truncation,
read limits and unreadable files. Each run hands the previous run's memo on, as the runner does."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checkrunner.core.result import Observation
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckPlugin
from checkrunner.plugins.registry import discover

PLUGIN: CheckPlugin[Any] = discover(entry_points_too=False).get("log")  # type: ignore[assignment]
ERRORS = "ERROR|FATAL"


class Tail:
    """Runs the check repeatedly on one file, carrying the memo like the runner."""

    def __init__(self, base_dir: Path, **options: Any) -> None:
        self.base_dir = base_dir
        self.options = PLUGIN.Options.model_validate({"path": "app.log", "pattern": ERRORS, **options})
        self.memo: Mapping[str, Any] = {}

    async def run(self) -> Observation:
        context = CheckContext(
            check="t", now=datetime.now(UTC), timeout=5.0, base_dir=self.base_dir, memo=self.memo
        )
        observation = await PLUGIN.run(self.options, context)
        if observation.memo is not None:
            self.memo = observation.memo
        return observation


# File operations stay in plain functions: the tests' own I/O is tiny and synchronous.


def write(path: Path, data: str | bytes) -> None:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


def rotate(path: Path, new_text: str) -> None:
    """logrotate's default: rename the file away, start a new one under the old name."""
    path.rename(path.with_name(path.name + ".1"))
    path.write_text(new_text)


def truncate(path: Path) -> None:
    """logrotate's copytruncate: the same inode, emptied."""
    with path.open("r+") as handle:
        handle.truncate(0)


def inode_and_size(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("INFO start\nERROR old one\n")
    return path


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"pattern": "(unclosed"}, "invalid regex '(unclosed'"),
        ({"pattern": "x", "from": "middle"}, "Input should be 'end' or 'start'"),
        ({"pattern": "x", "max_read": "huge"}, "expected a positive size"),
        ({"pattern": "x", "encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"pattern": "x", "encoding": "utf-16"}, "encoding 'utf-16' is not ASCII-compatible"),
        ({"pattern": "x", "path": ""}, "at least 1 character"),
    ],
    ids=[
        "a bad regex",
        "an unknown from",
        "a bad size",
        "an unknown encoding",
        "a two-byte encoding",
        "an empty path",
    ],
)
def test_invalid_options_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PLUGIN.Options.model_validate({"path": "app.log", **raw})
    assert message in str(caught.value)


@pytest.mark.parametrize("key", ["from", "from_"], ids=["the YAML key from", "the Python name from_"])
def test_from_is_read_under_its_yaml_name_and_its_python_name(key: str) -> None:
    options = PLUGIN.Options.model_validate({"path": "a", "pattern": "x", key: "start", "max_read": "1KiB"})
    assert (options.from_, options.max_read) == ("start", 1024)


# --- reading ------------------------------------------------------------------------------


async def test_the_first_run_remembers_the_end_and_counts_zero_matches(log: Path) -> None:
    tail = Tail(log.parent)
    observation = await tail.run()
    inode, size = inode_and_size(log)
    assert (observation.status, observation.summary, observation.value) == (
        Status.OK,
        f"watching from byte {size}",
        0.0,
    )
    assert observation.memo == {"inode": inode, "offset": size, "size": size}


async def test_from_start_counts_the_lines_already_there(log: Path) -> None:
    observation = await Tail(log.parent, **{"from": "start"}).run()
    assert (observation.value, observation.summary) == (1.0, "1 matching line of 2 read from the start")
    assert observation.detail == "ERROR old one"


async def test_appended_lines_are_counted_once(log: Path) -> None:
    tail = Tail(log.parent)
    await tail.run()
    append(log, "INFO fine\nERROR disk full\nFATAL gone\n")
    first = await tail.run()
    again = await tail.run()
    assert (first.value, first.summary, first.detail) == (
        2.0,
        "2 matching lines of 3 new",
        "ERROR disk full\nFATAL gone",
    )
    assert first.metrics == {"lines": 3.0, "bytes": float(len("INFO fine\nERROR disk full\nFATAL gone\n"))}
    assert (again.value, again.summary, again.detail) == (0.0, "0 matching lines of 0 new", None)


async def test_a_partial_last_line_waits_for_its_newline(log: Path) -> None:
    tail = Tail(log.parent)
    await tail.run()
    append(log, "INFO done\nERROR half")
    before = await tail.run()
    append(log, " written\n")
    after = await tail.run()
    assert (before.value, after.value) == (0.0, 1.0)
    assert after.detail == "ERROR half written"


async def test_rotation_by_rename_restarts_at_the_top_of_the_new_file(log: Path) -> None:
    tail = Tail(log.parent)
    await tail.run()
    rotate(log, "ERROR in the new file\n")
    observation = await tail.run()
    assert observation.value == 1.0
    assert observation.summary == "1 matching line of 1 new; file rotated, read from the top"
    assert observation.memo is not None and observation.memo["inode"] == inode_and_size(log)[0]


async def test_truncation_in_place_restarts_at_the_top(log: Path) -> None:
    tail = Tail(log.parent)
    await tail.run()
    truncate(log)
    append(log, "FATAL after truncate\n")
    observation = await tail.run()
    assert observation.value == 1.0
    assert observation.summary == "1 matching line of 1 new; file truncated, read from the top"


async def test_a_missing_file_is_unknown_and_keeps_the_position(log: Path) -> None:
    tail = Tail(log.parent)
    await tail.run()
    kept = dict(tail.memo)
    os.unlink(log)
    observation = await tail.run()
    assert (observation.status, observation.summary) == (Status.UNKNOWN, f"log file not found: {log}")
    assert observation.memo is None and tail.memo == kept


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode; see the directory case")
async def test_an_unreadable_file_is_unknown(log: Path) -> None:
    os.chmod(log, 0)
    try:
        observation = await Tail(log.parent).run()
    finally:
        os.chmod(log, 0o644)
    assert (observation.status, observation.summary) == (Status.UNKNOWN, f"permission denied: {log}")


async def test_a_directory_in_place_of_the_file_is_unknown(tmp_path: Path) -> None:
    os.mkdir(tmp_path / "app.log")
    observation = await Tail(tmp_path).run()
    assert (observation.status, observation.summary) == (
        Status.UNKNOWN,
        f"not a file: {tmp_path / 'app.log'}",
    )


async def test_max_read_resumes_on_the_next_run_and_says_so(tmp_path: Path) -> None:
    lines = "".join(f"ERROR number {i:03}\n" for i in range(100))  # 17 bytes a line
    write(tmp_path / "app.log", lines)
    tail = Tail(tmp_path, **{"from": "start", "max_read": 1000})
    counts = [(await tail.run()).value for _ in range(3)]
    first = await Tail(tmp_path, **{"from": "start", "max_read": 1000}).run()
    assert first.summary == (
        "58 matching lines of 58 read from the start; "
        "read limit 1000 bytes reached, 714 bytes left for the next run"
    )
    assert counts == [58.0, 42.0, 0.0]


async def test_a_line_longer_than_max_read_still_advances(tmp_path: Path) -> None:
    write(tmp_path / "app.log", "ERROR " + "x" * 50 + "\nERROR short\n")
    tail = Tail(tmp_path, **{"from": "start", "max_read": 20})
    values = [(await tail.run()).value for _ in range(6)]
    # 20-byte pieces of the 57-byte line (the first matches), its 17-byte rest, the short line.
    assert values == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert tail.memo["offset"] == inode_and_size(tmp_path / "app.log")[1]


async def test_crlf_and_undecodable_bytes_are_read_not_fatal(tmp_path: Path) -> None:
    write(tmp_path / "app.log", b"ERROR caf\xe9 down\r\nINFO ok\r\n")
    observation = await Tail(tmp_path, **{"from": "start"}).run()
    assert (observation.value, observation.detail) == (1.0, "ERROR caf\ufffd down")


async def test_detail_shows_only_the_last_matching_lines(tmp_path: Path) -> None:
    write(tmp_path / "app.log", "".join(f"ERROR {i} {'y' * 400}\n" for i in range(25)))
    observation = await Tail(tmp_path, **{"from": "start"}).run()
    shown = (observation.detail or "").split("\n")
    assert observation.value == 25.0
    assert len(shown) == 10 and shown[0].startswith("ERROR 15 ") and all(len(line) == 300 for line in shown)


@pytest.mark.parametrize(
    "memo",
    [{"inode": "x", "offset": 3, "size": 3}, {"offset": -1, "inode": 1, "size": 1}, {"unrelated": True}],
    ids=["a non-numeric inode", "a negative offset", "someone else's keys"],
)
async def test_a_memo_that_is_not_a_position_counts_as_a_first_run(memo: dict[str, Any], log: Path) -> None:
    tail = Tail(log.parent)
    tail.memo = memo
    observation = await tail.run()
    assert observation.summary == f"watching from byte {inode_and_size(log)[1]}"
