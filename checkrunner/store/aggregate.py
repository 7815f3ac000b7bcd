"""Aggregates of check results (pure, no I/O): counts by status, a latency histogram good for
quantiles within 1 %, and value moments; their stored encoding; and the fast fold of many stored
rows. The rollups table (rollups.py) stores them per hour and per day.

Latency histogram: log-spaced buckets, bucket ``i`` holding ``[1.02**i, 1.02**(i+1))`` ms, each
represented by its geometric midpoint, so a quantile is within ``sqrt(1.02) - 1 < 1 %`` of the
exact sample quantile (nearest rank), whatever the number of results merged. Estimates are
clamped to the exact min/max kept beside the histogram; latencies below 1 µs share the bucket
of 1 µs. Stored dense: ``latency_offset`` (first bucket) and ``latency_counts``, little-endian
uint32 counts, because a monthly report over 1,000 checks merges 30,000 histograms and decoding
JSON alone would take longer than the whole report may.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import add
from typing import Any

from checkrunner.core.status import Status

#: Width ratio of a latency bucket (2 %: the midpoint is within 1 % of anything in the bucket).
BUCKET_RATIO = 1.02
_LOG_RATIO = math.log(BUCKET_RATIO)
_FLOOR_MS = 0.001
_SWAP = sys.byteorder == "big"  # counts are stored little-endian


def bucket_of(latency_ms: float) -> int:
    return math.floor(math.log(max(latency_ms, _FLOOR_MS)) / _LOG_RATIO)


def bucket_value(bucket: int) -> float:
    return math.exp((bucket + 0.5) * _LOG_RATIO)


def encode(counts: Sequence[int]) -> bytes:
    packed = array("I", counts)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def decode(blob: bytes) -> list[int]:
    packed = array("I")
    packed.frombytes(blob)
    if _SWAP:
        packed.byteswap()
    return packed.tolist()


#: Histogram sums over many rows use one Python int per check, 32 bits per bucket ("lanes"):
#: adding two such ints adds every bucket at once, in C. Lane 0 is the lowest bucket there is
#: (latencies are floored at 1 µs), so every bucket has a lane; a lane holds up to 2**32 - 1
#: results, a month of one result a second being 2.6 million.
_LANE_BITS = 32
_LANE_BASE = -bucket_of(0.0)


def packed(offset: int, blob: bytes) -> int:
    """A stored histogram (offset, little-endian uint32 counts) as a lane int."""
    return int.from_bytes(blob, "little") << (_LANE_BITS * (offset + _LANE_BASE))


def unpacked(lanes: int) -> tuple[int, list[int]]:
    """A lane int back as (offset, dense counts)."""
    if lanes <= 0:
        return 0, []
    first = ((lanes & -lanes).bit_length() - 1) // _LANE_BITS  # the lowest non-empty lane
    lanes >>= first * _LANE_BITS
    size = (lanes.bit_length() + _LANE_BITS - 1) // _LANE_BITS
    return first - _LANE_BASE, decode(lanes.to_bytes(size * (_LANE_BITS // 8), "little"))


@dataclass(slots=True)
class Aggregate:
    """Results folded together. Mutable: :meth:`add` and :meth:`merge` accumulate in place.
    ``lat_counts[i]`` counts latencies in bucket ``lat_offset + i``."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # by Status value
    lat_offset: int = 0
    lat_counts: list[int] = field(default_factory=list)
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None
    value_count: int = 0
    value_sum: float = 0.0
    value_sumsq: float = 0.0
    value_min: float | None = None
    value_max: float | None = None

    @property
    def total(self) -> int:
        return sum(self.counts)

    def count(self, status: Status) -> int:
        return self.counts[int(status)]

    @property
    def latency(self) -> dict[int, int]:
        """The histogram as ``{bucket: count}`` (non-empty buckets only)."""
        return {self.lat_offset + i: n for i, n in enumerate(self.lat_counts) if n}

    def _bucket_add(self, offset: int, counts: Sequence[int]) -> None:
        if not counts:
            return
        if not self.lat_counts:
            self.lat_offset, self.lat_counts = offset, list(counts)
            return
        if offset < self.lat_offset:
            self.lat_counts[:0] = [0] * (self.lat_offset - offset)
            self.lat_offset = offset
        start = offset - self.lat_offset
        end = start + len(counts)
        if end > len(self.lat_counts):
            self.lat_counts.extend([0] * (end - len(self.lat_counts)))
        self.lat_counts[start:end] = map(add, self.lat_counts[start:end], counts)

    def add(self, status: Status | int, latency_ms: float, value: float | None) -> None:
        self.counts[int(status)] += 1
        self._bucket_add(bucket_of(latency_ms), (1,))
        self.latency_sum += latency_ms
        self.latency_min = latency_ms if self.latency_min is None else min(self.latency_min, latency_ms)
        self.latency_max = latency_ms if self.latency_max is None else max(self.latency_max, latency_ms)
        if value is not None and math.isfinite(value):
            self.value_count += 1
            self.value_sum += value
            self.value_sumsq += value * value
            self.value_min = value if self.value_min is None else min(self.value_min, value)
            self.value_max = value if self.value_max is None else max(self.value_max, value)

    def merge(self, other: Aggregate) -> Aggregate:
        self.counts[:] = map(add, self.counts, other.counts)
        self._bucket_add(other.lat_offset, other.lat_counts)
        self.latency_sum += other.latency_sum
        self.latency_min = _opt(min, self.latency_min, other.latency_min)
        self.latency_max = _opt(max, self.latency_max, other.latency_max)
        self.value_count += other.value_count
        self.value_sum += other.value_sum
        self.value_sumsq += other.value_sumsq
        self.value_min = _opt(min, self.value_min, other.value_min)
        self.value_max = _opt(max, self.value_max, other.value_max)
        return self

    def quantile(self, q: float) -> float | None:
        """Latency (ms) at quantile ``q`` in (0, 1], nearest rank; None without latencies."""
        return self.quantiles((q,))[0]

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """:meth:`quantile` of each of ``qs`` (ascending), in one walk over the histogram."""
        n = sum(self.lat_counts)
        if n == 0:
            return [None] * len(qs)
        out: list[float | None] = []
        ranks = iter([max(1, math.ceil(q * n)) for q in qs])
        rank = next(ranks)
        seen = 0
        for i, count in enumerate(self.lat_counts):
            seen += count
            while seen >= rank:
                estimate = bucket_value(self.lat_offset + i)
                low = self.latency_min if self.latency_min is not None else estimate
                high = self.latency_max if self.latency_max is not None else estimate
                out.append(min(max(estimate, low), high))
                rank = next(ranks, n + 1)
            if len(out) == len(qs):
                break
        return out

    @property
    def value_avg(self) -> float | None:
        return self.value_sum / self.value_count if self.value_count else None

    @property
    def latency_avg(self) -> float | None:
        n = self.total
        return self.latency_sum / n if n else None


def _opt(pick: Any, a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return float(pick(a, b))


#: Column order of the tuples :class:`RowFolder` takes.
FOLD_COLUMNS = (
    "check",
    "start",
    "ok",
    "warning",
    "critical",
    "unknown",
    "latency_offset",
    "latency_counts",
    "latency_sum",
    "latency_min",
    "latency_max",
    "value_count",
    "value_sum",
    "value_sumsq",
    "value_min",
    "value_max",
)


class RowFolder:
    """Folds rollups rows, as tuples in :data:`FOLD_COLUMNS` order, into one Aggregate per
    check: the hot loop of reports (a monthly report over 1,000 checks folds 30,000 rows), so
    it works on plain lists and lane ints and builds the Aggregates once, at the end.
    ``histogram=False``: the histogram columns may be NULL and are ignored."""

    def __init__(self, histogram: bool = True) -> None:
        self.histogram = histogram
        self._sums: dict[str, list[Any]] = {}
        self._lanes: dict[str, int] = {}

    def add(self, found: Sequence[Any]) -> None:
        (
            check,
            _,
            ok,
            warning,
            critical,
            unknown,
            offset,
            blob,
            lsum,
            lmin,
            lmax,
            vc,
            vs,
            vss,
            vmin,
            vmax,
        ) = found
        acc = self._sums.get(check)
        if acc is None:
            self._sums[check] = [ok, warning, critical, unknown, lsum, lmin, lmax, vc, vs, vss, vmin, vmax]
            if self.histogram:
                self._lanes[check] = packed(offset, blob)
            return
        acc[0] += ok
        acc[1] += warning
        acc[2] += critical
        acc[3] += unknown
        acc[4] += lsum
        if lmin is not None and (acc[5] is None or lmin < acc[5]):
            acc[5] = lmin
        if lmax is not None and (acc[6] is None or lmax > acc[6]):
            acc[6] = lmax
        acc[7] += vc
        acc[8] += vs
        acc[9] += vss
        if vmin is not None and (acc[10] is None or vmin < acc[10]):
            acc[10] = vmin
        if vmax is not None and (acc[11] is None or vmax > acc[11]):
            acc[11] = vmax
        if self.histogram:
            self._lanes[check] += packed(offset, blob)

    def result(self) -> dict[str, Aggregate]:
        out = {}
        for check, (
            ok,
            warning,
            critical,
            unknown,
            lsum,
            lmin,
            lmax,
            vc,
            vs,
            vss,
            vmin,
            vmax,
        ) in self._sums.items():
            offset, counts = unpacked(self._lanes.get(check, 0))
            out[check] = Aggregate(
                [ok, warning, critical, unknown], offset, counts, lsum, lmin, lmax, vc, vs, vss, vmin, vmax
            )
        return out


def slot_aggregate(found: Sequence[Any]) -> Aggregate:
    """An Aggregate without histogram from a tuple in :data:`FOLD_COLUMNS` order."""
    (_, _, ok, warning, critical, unknown, _, _, lsum, lmin, lmax, vc, vs, vss, vmin, vmax) = found
    return Aggregate([ok, warning, critical, unknown], 0, [], lsum, lmin, lmax, vc, vs, vss, vmin, vmax)
