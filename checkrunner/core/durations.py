"""Durations as written in schedules.yaml: ``250ms``, ``30s``, ``5m``, ``1h30m``, ``1d``, ``1w``.

A bare number (int or float) means seconds. Zero is allowed; negative is not.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")


#: Longer than any schedule needs; keeps timedelta arithmetic far from its limits.
MAX_SECONDS = 100 * 365 * 86400


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raises ValueError with a user-facing message."""
    seconds = _seconds(value)
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {value!r} is longer than 100 years")
    return timedelta(seconds=seconds)


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0 or value != value:  # NaN is not a duration either
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")
    text = value.strip().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not text or not _WHOLE.fullmatch(text):
        raise ValueError(
            f"invalid duration {value!r}: use a number and a unit (ms, s, m, h, d, w), e.g. 30s, 5m, 1h30m"
        )
    return sum(float(num) * _UNITS[unit] for num, unit in _PART.findall(text))


def format_duration(delta: timedelta) -> str:
    """Compact human form: ``1h30m``, ``45s``, ``250ms``, ``0s``."""
    total_ms = round(delta.total_seconds() * 1000)
    if total_ms == 0:
        return "0s"
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    if total_ms < 1000:
        return f"{sign}{total_ms}ms"
    seconds, ms = divmod(total_ms, 1000)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    if ms:
        parts.append(f"{ms}ms")
    return sign + "".join(parts)


def parse_since(text: str, now: datetime, tz: tzinfo) -> datetime:
    """The start of a ``--since``/``?since=``: a duration back from ``now`` (``24h``, ``7d``)
    or an ISO date/time (a naive one is in ``tz``, the config timezone). ValueError otherwise."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("expected a duration (24h, 7d) or an ISO date (2026-11-21)") from None
    return when if when.tzinfo else when.replace(tzinfo=tz)


def format_age(delta: timedelta) -> str:
    """The two largest units of a duration, for people: ``45s``, ``3m 20s``, ``2h 5m``, ``1d 3h``
    (negative durations count as 0s)."""
    seconds = max(0, int(delta.total_seconds()))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount or (unit == "s" and not parts):
            parts.append(f"{amount}{unit}")
    return " ".join(parts[:2])
