"""Byte sizes as written in options: ``65536``, ``64KiB``, ``1MB``, ``1MiB``."""

from __future__ import annotations

import re

_SIZE = re.compile(r"(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 10**6, "mib": 2**20, "gb": 10**9, "gib": 2**30}


def parse_size(raw: object) -> int:
    """Bytes from ``65536``, ``64KiB``, ``1MB``; raises ValueError with a user-facing message."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return raw
    match = _SIZE.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"expected a positive size like 65536, 64KiB or 1MiB, got {raw!r}")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]


def format_size(size: int) -> str:
    """``1 MiB``, ``512 KiB`` or ``N bytes`` (exact units only)."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"
