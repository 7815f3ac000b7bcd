"""Latency sparklines as inline SVG (pure; no JavaScript, no external file).

The SVG is built from numbers only (coordinates and counts we compute), never from text of
a checked system, so it can be marked safe for the HTML template without escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup

from checkrunner.core.status import Status

WIDTH = 120
HEIGHT = 28
#: Colour of each status's dot (problems stand out at a glance on a wall screen).
DOT = {
    Status.OK: "#2e7d32",
    Status.WARNING: "#ed6c02",
    Status.CRITICAL: "#c62828",
    Status.UNKNOWN: "#6a1b9a",
}


def sparkline(points: Sequence[tuple[datetime, float, Status]]) -> Markup:
    """An SVG polyline of latencies (oldest left), scaled from 0 to the largest latency, with a
    dot on each non-ok result. An empty sequence gives an empty string."""
    if not points:
        return Markup("")
    top = max(max(latency for _t, latency, _s in points), 1e-9)
    step = WIDTH / max(len(points) - 1, 1)
    coords: list[tuple[float, float]] = []
    for index, (_at, latency, _status) in enumerate(points):
        x = index * step if len(points) > 1 else WIDTH / 2
        y = HEIGHT - 2 - (max(latency, 0.0) / top) * (HEIGHT - 4)
        coords.append((x, y))
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{DOT[status]}"/>'
        for (x, y), (_t, _l, status) in zip(coords, points, strict=True)
        if status is not Status.OK
    )
    low = min(latency for _t, latency, _s in points)
    title = f"latency {low:.0f}–{top:.0f} ms over the last {len(points)} runs"
    svg = (
        f'<svg class="spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{title}"><title>{title}</title>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{line}"/>{dots}</svg>'
    )
    return Markup(svg)
