"""Rendering reports through the one Jinja environment (checkrunner/templating.py).

Templates (overridable by name from the user's templates folder): ``report.html.j2`` (email:
inline CSS, bars drawn with table cells, no SVG, no JavaScript, no external images),
``report.md.j2`` (Slack and other markdown channels: unicode sparklines), ``report.txt.j2``
(SMS, terminals, ``--out`` files that are neither .html nor .md). HTML templates autoescape
everything; values from checked systems are never marked safe.

The helpers below are exposed to templates as filters (``pct``, ``ms``, ``num``, ``signed``,
``dur``, ``spark``, ``bars``, ``tone``) so user templates can use them too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from checkrunner.notify import Format, Message
from checkrunner.report.stats import duration_text
from checkrunner.templating import render

TEMPLATES: dict[Format, str] = {"html": "report.html.j2", "markdown": "report.md.j2", "text": "report.txt.j2"}
_SPARK = "▁▂▃▄▅▆▇█"


def format_for_path(path: Path | str) -> Format:
    """``--out`` format from the file name: .html/.htm -> html, .md -> markdown, else text."""
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    return "text"


def pct(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}%"


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if value == int(value) and abs(value) < 1e15 else f"{value:.4g}"


def signed(value: float | None, unit: str = "%", digits: int = 1) -> str:
    return "" if value is None else f"{value:+.{digits}f}{unit}"


def spark(values: Sequence[float | None], low: float | None = None, high: float | None = None) -> str:
    """A unicode sparkline; a missing slot is ``·``. Scaled to ``[low, high]`` (data range by default)."""
    present = [v for v in values if v is not None]
    if not present:
        return "·" * len(values)
    lo = min(present) if low is None else low
    hi = max(present) if high is None else high
    out = []
    for v in values:
        if v is None:
            out.append("·")
        elif hi <= lo:
            out.append(_SPARK[-1])
        else:
            frac = min(1.0, max(0.0, (v - lo) / (hi - lo)))
            out.append(_SPARK[min(len(_SPARK) - 1, int(frac * len(_SPARK)))])
    return "".join(out)


def bars(values: Sequence[float | None], height: int = 24) -> list[int | None]:
    """Pixel heights (1..height) of bars scaled to the largest value; None for a missing slot."""
    top = max((v for v in values if v is not None), default=0.0)
    if top <= 0:
        return [None if v is None else 1 for v in values]
    return [None if v is None else max(1, math.ceil(height * v / top)) for v in values]


def tone(uptime: float | None) -> str:
    """Cell colour of an uptime value: green at 100 %, amber from 99 %, red below, grey unknown."""
    if uptime is None:
        return "#d0d4d9"
    if uptime >= 99.999:
        return "#2e9e5b"
    return "#e0a800" if uptime >= 99.0 else "#d64545"


def install_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(
        pct=pct, ms=ms, num=num, signed=signed, dur=duration_text, spark=spark, bars=bars, tone=tone
    )
    return env


def render_report(env: jinja2.Environment, view: Any, fmt: Format) -> str:
    """``view`` (a ReportView, or the synthetic one of preflight) rendered in ``fmt``."""
    install_filters(env)
    return render(env, TEMPLATES[fmt], report=view)


def report_message(env: jinja2.Environment, view: Any, fmt: Format) -> Message:
    """One channel message: title ``<report title> — <period>``, body in the channel's format."""
    title = f"{view.title} — {view.period.title}"
    return Message(title=title, body=render_report(env, view, fmt), format=fmt)
