"""Extracting the number thresholds apply to, shared by check plugins.

The ``value:`` key of a check takes one of these forms (validated when the config loads)::

    value: "$.avg_response_ms"            # a JSONPath (a string starting with "$")
    value: {jsonpath: "$.data.rate"}
    value: {regex: "rate=([0-9.]+)"}      # one capture group, searched in text output
    value: {perfdata: time}               # a Nagios perfdata label
    value: time                           # (nagios) a bare label = perfdata label

Every extractor raises :class:`~checkrunner.core.errors.CheckFailed` with a one-line,
user-facing message when the value cannot be found: that becomes ``unknown``.
"""

from __future__ import annotations

import functools
import json
import math
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import ExtendedJsonPathParser
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from checkrunner.core.errors import CheckFailed

ValueKind = Literal["jsonpath", "regex", "perfdata"]


#: jsonpath-ng builds its LALR tables when a parser is created (~60 ms): build one, reuse it.
_PARSER = ExtendedJsonPathParser()
_PARSER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4096)
def compile_jsonpath(expr: str) -> JSONPath:
    """Compile a JSONPath; raises ValueError (a config error) when it does not parse."""
    if not isinstance(expr, str) or not expr.strip().startswith("$"):
        raise ValueError(f"a JSONPath starts with '$', got {expr!r}")
    try:
        with _PARSER_LOCK:
            return _PARSER.parse(expr.strip())
    except (JsonPathParserError, Exception) as exc:  # jsonpath-ng raises several types
        raise ValueError(f"invalid JSONPath {expr!r}: {exc}") from None


def jsonpath_values(path: JSONPath, document: Any) -> list[Any]:
    return [match.value for match in path.find(document)]


def to_number(raw: Any, where: str) -> float:
    """A float from a JSON/regex value; booleans count as 1/0; raises CheckFailed."""
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip().rstrip("%"))
        except ValueError:
            raise CheckFailed(f"{where} is {raw[:60]!r}, not a number") from None
    else:
        raise CheckFailed(f"{where} is {type(raw).__name__}, not a number")
    if not math.isfinite(number):
        raise CheckFailed(f"{where} is {raw!r}, not a finite number")
    return number


@dataclass(frozen=True, slots=True)
class ValueSpec:
    """A parsed ``value:`` key."""

    kind: ValueKind
    expr: str
    path: JSONPath | None = None
    pattern: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, raw: Any, bare: ValueKind = "jsonpath") -> ValueSpec:
        """Parse the YAML form; a bare string is a JSONPath when it starts with ``$``,
        otherwise it is read as ``bare`` (``perfdata`` for nagios checks)."""
        if isinstance(raw, ValueSpec):
            return raw
        if isinstance(raw, str):
            if raw.strip().startswith("$"):
                return cls._make("jsonpath", raw)
            if bare == "jsonpath":
                raise ValueError(
                    f"value {raw!r} is not a JSONPath (they start with '$'); "
                    "use {regex: ...} or {perfdata: label} for other forms"
                )
            return cls._make(bare, raw)
        if isinstance(raw, dict) and len(raw) == 1:
            ((kind, expr),) = raw.items()
            if kind in ("jsonpath", "regex", "perfdata") and isinstance(expr, str):
                return cls._make(kind, expr)
        raise ValueError(
            "value must be a JSONPath string or one of {jsonpath: ...}, {regex: ...}, {perfdata: label}"
        )

    @classmethod
    def _make(cls, kind: str, expr: str) -> ValueSpec:
        if kind == "jsonpath":
            return cls("jsonpath", expr, path=compile_jsonpath(expr))
        if kind == "regex":
            try:
                pattern = re.compile(expr, re.MULTILINE)
            except re.error as exc:
                raise ValueError(f"invalid regex {expr!r}: {exc}") from None
            if pattern.groups != 1:
                raise ValueError(f"regex {expr!r} must have exactly one capture group, has {pattern.groups}")
            return cls("regex", expr, pattern=pattern)
        if not expr.strip():
            raise ValueError("perfdata label is empty")
        return cls("perfdata", expr.strip())

    def from_json(self, document: Any) -> float:
        assert self.path is not None
        found = jsonpath_values(self.path, document)
        if not found:
            raise CheckFailed(f"JSONPath {self.expr} matched nothing")
        return to_number(found[0], f"JSONPath {self.expr}")

    def from_text(self, text: str) -> float:
        """Regex over text, or JSONPath over text parsed as JSON."""
        if self.kind == "jsonpath":
            try:
                document = json.loads(text)
            except ValueError:
                raise CheckFailed(f"output is not JSON, cannot apply JSONPath {self.expr}") from None
            return self.from_json(document)
        if self.kind == "regex":
            assert self.pattern is not None
            match = self.pattern.search(text)
            if match is None:
                raise CheckFailed(f"regex {self.expr} matched nothing in the output")
            return to_number(match.group(1), f"regex {self.expr} capture")
        raise CheckFailed(f"perfdata value {self.expr!r} is only available to nagios checks")

    def __str__(self) -> str:
        return self.expr

    # pydantic integration: Options models declare ``value: ValueSpec | None = None``.
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )
