"""The one table the benchmark prints, and the statistics behind its figures.

A :class:`Row` holds checkrunner's figure, the baseline's figure measured in the same run,
and a :class:`Target`; the ratio is always checkrunner / baseline. A target applies either to
the figure itself (``ms``, ``checks/s`` …) or to the ratio. A row whose figure could not be
measured says so instead of showing a number (never a made-up one).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that were measured; None when none was."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True, slots=True)
class Target:
    """``figure <= limit`` (``at_most``) or ``figure >= limit``, on the value or on the ratio."""

    limit: float
    at_most: bool = True
    on: Literal["value", "ratio"] = "value"
    #: Shown in the table, e.g. "<= 10 ms" or "<= 1.0x blackbox".
    text: str = ""

    def passes(self, value: float | None, ratio: float | None) -> bool | None:
        figure = value if self.on == "value" else ratio
        if figure is None:
            return None
        return figure <= self.limit if self.at_most else figure >= self.limit


@dataclass(frozen=True, slots=True)
class Row:
    metric: str
    ours: float | None
    baseline: float | None = None
    unit: str = ""
    target: Target | None = None
    #: Why a figure is missing, or how the baseline was taken.
    note: str = ""
    #: No figure, yet the target is known to be missed (e.g. no fire started at all) ...
    failed: bool = False
    #: ... and what the cell says instead of a figure.
    missing: str = "not measured"

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        passed = self.target.passes(self.ours, self.ratio)
        if passed is None:
            return "FAIL" if self.failed else "not measured"
        return "pass" if passed else "FAIL"


def fmt(value: float | None, unit: str = "", missing: str = "not measured") -> str:
    if value is None:
        return missing
    if value == 0:
        text = "0"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 0.1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def render(rows: Sequence[Row]) -> str:
    """A markdown table (readable in a terminal, pasteable into the README)."""
    header = ["metric", "checkrunner", "baseline (same run)", "ratio", "target", "pass/fail"]
    table = [header]
    notes: list[str] = []
    for row in rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        baseline = fmt(row.baseline, row.unit) if row.baseline is not None else "-"
        metric = row.metric
        if row.note:
            if row.note not in notes:
                notes.append(row.note)
            metric += f" [{notes.index(row.note) + 1}]"
        target = row.target.text if row.target else "-"
        table.append([metric, fmt(row.ours, row.unit, row.missing), baseline, ratio, target, row.verdict])
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |" for line in table]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    lines += [""] + [f"[{number}] {note}" for number, note in enumerate(notes, 1)]
    return "\n".join(lines)
