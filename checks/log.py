"""``type: log``: count the lines matching a pattern that were added to a file since last run.

Options::

    path: /var/log/app.log           # relative to the folder of schedules.yaml
    pattern: "ERROR|CRITICAL|FATAL"  # a regex searched in each new line
    from: end                        # end (default): the first run only remembers the end;
                                     # start: the first run counts the lines already there
    max_read: 16MiB                  # per run; the rest is read by the next run
    encoding: utf-8                  # undecodable bytes are replaced, never fatal

Outcome: ``value`` = the number of matching lines (``warn: "> 0"`` alerts on any); status
ok; ``detail`` = the last few matching lines. Only complete lines count: a last line without
its newline waits for the next run. The position persists in ``memo`` as ``{"inode",
"offset", "size"}``; a new inode (rotation by rename) or a file shorter than the offset
(truncation, copytruncate) restarts at the top of the new file. A missing file is
``unknown`` and keeps the memo, so the count resumes when the file is back; an unreadable
one is ``unknown`` ("permission denied"). Reads run in a thread.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from checkrunner.core.result import Observation, bounded, one_line
from checkrunner.core.sizes import parse_size
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin

#: Matching lines shown in ``detail`` (the last ones), and the characters kept of each.
SHOWN_LINES = 10
SHOWN_CHARS = 300


class LogOptions(CheckOptions):
    model_config = ConfigDict(populate_by_name=True)

    path: str = Field(min_length=1)
    pattern: re.Pattern[str]
    from_: Literal["end", "start"] = Field("end", alias="from")
    max_read: int = 16 * 2**20
    encoding: str = "utf-8"

    @field_validator("pattern", mode="before")
    @classmethod
    def _regex(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        try:
            return re.compile(raw)
        except re.error as exc:
            raise ValueError(f"invalid regex {raw!r}: {exc}") from None

    @field_validator("max_read", mode="before")
    @classmethod
    def _size(cls, raw: Any) -> int:
        return parse_size(raw)

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, name: str) -> str:
        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError(f"unknown encoding {name!r}") from None
        # Lines are split on the byte b"\n", which UTF-16/32 do not use.
        if "\n".encode(name) != b"\n":
            raise ValueError(f"encoding {name!r} is not ASCII-compatible; log files are read line by line")
        return name


@dataclass(frozen=True, slots=True)
class Position:
    inode: int
    offset: int
    size: int

    def memo(self) -> dict[str, int]:
        return {"inode": self.inode, "offset": self.offset, "size": self.size}

    @classmethod
    def from_memo(cls, memo: Mapping[str, Any]) -> Position | None:
        """The position a previous run saved; None when absent or not ours."""
        fields = [memo.get(key) for key in ("inode", "offset", "size")]
        if not all(isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in fields):
            return None
        return cls(*fields)  # type: ignore[arg-type]


class LogCheck(CheckPlugin[LogOptions]):
    type = "log"
    uses_memo = True
    Options = LogOptions

    def describe(self, options: LogOptions) -> str:
        return f"{options.path} =~ /{options.pattern.pattern}/"

    async def run(self, options: LogOptions, ctx: CheckContext) -> Observation:
        return await asyncio.to_thread(
            scan, ctx.base_dir / options.path, options, Position.from_memo(ctx.memo)
        )


def scan(path: Path, options: LogOptions, previous: Position | None) -> Observation:
    """Read what was added since ``previous`` and count the matches (blocking)."""
    try:
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            if previous is None and options.from_ == "end":
                position = Position(stat.st_ino, stat.st_size, stat.st_size)
                # No line has been added yet: zero matches, so thresholds hold (DESIGN: first run ok).
                return Observation(
                    Status.OK, f"watching from byte {stat.st_size}", value=0.0, memo=position.memo()
                )
            start, restart = _start(previous, stat.st_ino, stat.st_size)
            handle.seek(start)
            data = handle.read(options.max_read)
    except FileNotFoundError:
        return Observation(Status.UNKNOWN, one_line(f"log file not found: {path}"))
    except PermissionError:
        return Observation(Status.UNKNOWN, one_line(f"permission denied: {path}"))
    except IsADirectoryError:
        return Observation(Status.UNKNOWN, one_line(f"not a file: {path}"))
    except OSError as exc:
        return Observation(Status.UNKNOWN, one_line(f"cannot read {path}: {exc.strerror or exc}"))

    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) == options.max_read:
        # One line longer than max_read: take the piece, or the file could never advance.
        end = len(data)
    text = data[:end].decode(options.encoding, errors="replace")
    lines = [line.rstrip("\r") for line in text.split("\n")] if text else []
    if text.endswith("\n"):
        lines.pop()  # what follows the final newline is the (empty) start of the next line
    matches = [line for line in lines if options.pattern.search(line)]
    position = Position(stat.st_ino, start + end, stat.st_size)

    notes = [restart] if restart else []
    left = stat.st_size - position.offset
    if len(data) == options.max_read and left > 0:
        notes.append(f"read limit {options.max_read} bytes reached, {left} bytes left for the next run")
    what = "read from the start" if previous is None else "new"
    summary = f"{len(matches)} matching line{'' if len(matches) == 1 else 's'} of {len(lines)} {what}"
    shown = [line[:SHOWN_CHARS] for line in matches[-SHOWN_LINES:]]
    return Observation(
        Status.OK,
        one_line("; ".join([summary, *notes])),
        value=float(len(matches)),
        metrics={"lines": float(len(lines)), "bytes": float(end)},
        detail=bounded("\n".join(shown)) if shown else None,
        memo=position.memo(),
    )


def _start(previous: Position | None, inode: int, size: int) -> tuple[int, str | None]:
    """Where to read from, and why it is the top of the file when that is news."""
    if previous is None:
        return 0, None
    if previous.inode != inode:
        return 0, "file rotated, read from the top"
    if size < previous.offset:
        return 0, "file truncated, read from the top"
    return previous.offset, None
