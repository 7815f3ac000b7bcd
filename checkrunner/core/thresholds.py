"""Threshold expressions on ``warn`` / ``crit``, parsed into objects (never ``eval``).

Grammar (spaces optional, case-insensitive)::

    > 500      >= 1     < 95     <= 0     == 0     != 0       plain comparisons
    outside 10..20      inside 10..20                           ranges, bounds inclusive
    > baseline + 3 sigma        < baseline - 2 sigma            mean ± k·σ of history
    < baseline - 50%            > baseline + 25%                mean ± p % of the mean
    > baseline                                                 the mean itself

A plain number may carry a trailing ``%`` (``< 95%``): the value is then read as a number of
percent, i.e. ``< 95%`` means "value below 95".

A threshold *fires* when the expression is true for the value. ``outside 10..20`` fires
for values below 10 or above 20; ``inside 10..20`` for values from 10 to 20.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Op = Literal[">", ">=", "<", "<=", "==", "!="]

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_COMPARE = re.compile(rf"^(>=|<=|==|!=|>|<)\s*({_NUM})\s*%?$")
_RANGE = re.compile(rf"^(outside|inside)\s+({_NUM})\s*\.\.\s*({_NUM})$", re.IGNORECASE)
_BASELINE = re.compile(rf"^(>=|<=|>|<)\s*baseline(?:\s*([+-])\s*({_NUM})\s*(sigma|σ|%))?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BaselineStats:
    """Mean and population standard deviation of a metric's history."""

    mean: float
    sigma: float
    count: int


def baseline_stats(values: Iterable[float]) -> BaselineStats:
    """Population mean/σ of ``values`` (an empty iterable gives count 0)."""
    data = [v for v in values if v is not None and math.isfinite(v)]
    if not data:
        return BaselineStats(0.0, 0.0, 0)
    mean = math.fsum(data) / len(data)
    variance = math.fsum((v - mean) ** 2 for v in data) / len(data)
    return BaselineStats(mean, math.sqrt(variance), len(data))


def _compare(op: str, left: float, right: float) -> bool:
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == "==":
        return left == right
    return left != right


@dataclass(frozen=True, slots=True)
class Verdict:
    fired: bool
    #: Why it did not evaluate (e.g. too little history), or the bound that was compared.
    note: str = ""


@dataclass(frozen=True, slots=True)
class Threshold:
    text: str
    kind: Literal["compare", "range", "baseline"]
    op: str
    a: float = 0.0
    b: float = 0.0
    #: For baselines: "sigma", "%" or "" (the mean itself); ``a`` is the signed offset.
    unit: str = ""

    @property
    def uses_baseline(self) -> bool:
        return self.kind == "baseline"

    def bound(self, baseline: BaselineStats | None) -> float | None:
        """The number the value is compared with (None when the baseline is missing)."""
        if self.kind != "baseline":
            return self.a
        if baseline is None:
            return None
        if self.unit == "sigma":
            return baseline.mean + self.a * baseline.sigma
        if self.unit == "%":
            return baseline.mean * (1 + self.a / 100)
        return baseline.mean

    def evaluate(self, value: float, baseline: BaselineStats | None = None, min_samples: int = 30) -> Verdict:
        if self.kind == "range":
            low, high = self.a, self.b
            inside = low <= value <= high
            return Verdict(inside if self.op == "inside" else not inside)
        if self.kind == "baseline":
            have = baseline.count if baseline else 0
            if baseline is None or have < min_samples:
                return Verdict(False, f"baseline needs {min_samples} samples, has {have}")
        bound = self.bound(baseline)
        assert bound is not None
        note = f"baseline {bound:.4g}" if self.kind == "baseline" else ""
        return Verdict(_compare(self.op, value, bound), note)

    def __str__(self) -> str:
        return self.text


def parse_threshold(text: object) -> Threshold:
    """Parse a threshold expression; raises ValueError with a user-facing message."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f'expected a threshold expression such as "> 500", got {text!r}')
    if isinstance(text, int | float):
        raise ValueError(f'a bare number ({text}) is not a threshold: write a comparison such as "> {text}"')
    raw = text.strip()
    norm = " ".join(raw.split())
    if match := _COMPARE.match(norm):
        return Threshold(raw, "compare", match[1], float(match[2]))
    if match := _RANGE.match(norm):
        low, high = float(match[2]), float(match[3])
        if low > high:
            raise ValueError(f"invalid range in {raw!r}: {match[2]} is above {match[3]}")
        return Threshold(raw, "range", match[1].lower(), low, high)
    if match := _BASELINE.match(norm):
        op, sign, amount, unit = match[1], match[2], match[3], match[4]
        offset = 0.0
        kind_unit = ""
        if amount is not None:
            offset = float(amount) * (-1 if sign == "-" else 1)
            kind_unit = "%" if unit == "%" else "sigma"
        return Threshold(raw, "baseline", op, offset, 0.0, kind_unit)
    if "\n" in text:
        raise ValueError(
            'threshold spans lines: quote threshold expressions in YAML (warn: "> 500"); '
            "an unquoted > starts a block scalar"
        )
    raise ValueError(
        f"invalid threshold {raw!r}: use > 500, >= 1, < 95, <= 0, == 0, != 0, "
        "outside 10..20, inside 10..20, > baseline + 3 sigma or < baseline - 50%"
    )
