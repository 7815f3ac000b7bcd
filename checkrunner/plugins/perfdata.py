"""The Nagios plugin output protocol, parsed (pure; no I/O).

Output of a Nagios plugin::

    TEXT | PERFDATA                 first line: the status text, then optional perfdata
    LONG TEXT                       further lines: long text ...
    LONG TEXT | PERFDATA            ... until a line with "|": perfdata from there
    PERFDATA                        to the end of the output

Perfdata is a space-separated list of ``'label'=value[UOM];[warn];[crit];[min];[max]``.
Labels with spaces are single-quoted and a quote inside them is doubled (``'it''s'``).
UOM is one of ``s ms us % B KB MB GB TB c`` or empty. A malformed entry (no ``=``, a value
that is not a number, ``U`` for "undetermined", an unknown unit, an unterminated quote) is
skipped: one bad entry never loses the others, and parsing never raises.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Units of measurement allowed by the Nagios plugin guidelines (plus GB, which plugins emit).
UNITS = frozenset({"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"})

_VALUE = re.compile(r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)([A-Za-z%]*)")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True, slots=True)
class PerfDatum:
    """One perfdata entry. ``warn``/``crit`` stay range strings (``10:20``, ``@5``)."""

    label: str
    value: float
    uom: str = ""
    warn: str | None = None
    crit: str | None = None
    min: float | None = None
    max: float | None = None

    def __str__(self) -> str:
        return f"{self.label}={_fmt(self.value)}{self.uom}"


@dataclass(frozen=True, slots=True)
class PluginOutput:
    """A plugin's output split into its parts."""

    text: str
    long_text: str
    perfdata: tuple[PerfDatum, ...]


def _fmt(value: float) -> str:
    return f"{value:.15g}"


def parse_plugin_output(output: str) -> PluginOutput:
    """Split plugin output into status text, long text and perfdata."""
    lines = output.splitlines()
    if not lines:
        return PluginOutput("", "", ())
    text, _, perf_first = lines[0].partition("|")
    long_lines: list[str] = []
    perf_parts = [perf_first]
    for index, line in enumerate(lines[1:], start=1):
        before, bar, after = line.partition("|")
        if bar:
            # The first "|" after line one switches to perfdata for the rest of the output.
            long_lines.append(before)
            perf_parts.append(after)
            perf_parts.extend(lines[index + 1 :])
            break
        long_lines.append(line)
    long_text = "\n".join(long_lines).strip()
    return PluginOutput(text.strip(), long_text, tuple(parse_perfdata(" ".join(perf_parts))))


def parse_perfdata(text: str) -> list[PerfDatum]:
    """Every well-formed entry of a perfdata string, in order; malformed ones are skipped."""
    found: list[PerfDatum] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos].isspace():
            pos += 1
            continue
        label, pos = _read_label(text, pos)
        # The value part runs to the next whitespace (labels may hold spaces, values never).
        stop = pos
        while stop < end and not text[stop].isspace():
            stop += 1
        if label is not None and pos < end and text[pos] == "=":
            datum = _parse_entry(label, text[pos + 1 : stop])
            if datum is not None:
                found.append(datum)
        pos = stop
    return found


def _read_label(text: str, pos: int) -> tuple[str | None, int]:
    """The label starting at ``pos`` and the index just after it (at "=" when well-formed)."""
    if text[pos] != "'":
        stop = pos
        while stop < len(text) and text[stop] != "=" and not text[stop].isspace():
            stop += 1
        return (text[pos:stop] or None), stop
    chars: list[str] = []
    pos += 1
    while pos < len(text):
        if text[pos] == "'":
            if text.startswith("''", pos):
                chars.append("'")
                pos += 2
                continue
            return ("".join(chars) or None), pos + 1
        chars.append(text[pos])
        pos += 1
    return None, pos  # unterminated quote: nothing more can be trusted


def _parse_entry(label: str, spec: str) -> PerfDatum | None:
    fields = spec.split(";")
    if len(fields) > 5:
        return None
    match = _VALUE.fullmatch(fields[0])
    if match is None or match.group(2) not in UNITS:
        return None
    value = float(match.group(1))
    if not math.isfinite(value):
        return None
    fields += [""] * (5 - len(fields))
    warn, crit = (fields[1] or None), (fields[2] or None)
    low, high = _optional_number(fields[3]), _optional_number(fields[4])
    if (fields[3] and low is None) or (fields[4] and high is None):
        return None
    return PerfDatum(label, value, match.group(2), warn, crit, low, high)


def _optional_number(raw: str) -> float | None:
    if not raw or not _NUMBER.fullmatch(raw):
        return None
    return float(raw)
