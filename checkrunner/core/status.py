"""Check statuses with Nagios semantics.

The numeric value of a Status is its Nagios exit code (ok=0, warning=1, critical=2,
unknown=3). Severity order differs from the exit code: ``unknown`` ranks between
``warning`` and ``critical`` because "the check could not tell" is more worrying than
a warning but less certain than a confirmed failure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Status(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def rank(self) -> int:
        """Severity rank: ok < warning < unknown < critical."""
        return _RANK[self]

    @property
    def exit_code(self) -> int:
        return int(self)

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Status:
        """Status from its lower-case name; raises ValueError for anything else."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown status {text!r} (ok, warning, critical, unknown)") from None

    def __str__(self) -> str:
        return self.label


_RANK = {Status.OK: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.CRITICAL: 3}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status of ``statuses``; ``ok`` for an empty iterable."""
    result = Status.OK
    for status in statuses:
        if status.rank > result.rank:
            result = status
    return result


#: Four-letter marks of statuses for terminal and plain-text output, by label.
MARKS = {"ok": "OK", "warning": "WARN", "critical": "CRIT", "unknown": "UNKN"}
