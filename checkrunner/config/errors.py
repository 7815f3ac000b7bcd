"""Turning pydantic validation errors into Problems in the user's terms (one sentence each,
with the key path and the line/column of the offending key or value)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from checkrunner.config.source import Path, Source
from checkrunner.core.problems import Problem

_TYPE_WORDS = {
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "missing": "required key is missing",
    "none_required": "expected nothing here",
}


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return sorted((info.alias or name) for name, info in model.model_fields.items())


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _model_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose field set applies at ``loc`` (for unknown-key hints)."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        current = _innermost_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _innermost_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _innermost_model(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    if meta is not None and isinstance(meta, type) and issubclass(meta, BaseModel):
        return meta
    return None


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic inserts union member names / validator tags ("function-plain[...]") in locs.
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"}))
    )


def validation_problems(
    exc: ValidationError,
    source: Source,
    prefix: Path,
    model: type[BaseModel] | None,
    extra_choices: Iterable[str] = (),
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Path, str]] = set()
    for error in exc.errors(include_url=False):
        loc = _clean_loc(tuple(error["loc"]))
        path: Path = (*prefix, *loc)
        kind = error["type"]
        key = False
        if kind == "extra_forbidden":
            name = str(loc[-1]) if loc else ""
            allowed = _allowed_keys(_model_at(model, loc[:-1]))
            if len(loc) == 1:
                allowed += list(extra_choices)
            message = f"unknown key {name!r}{did_you_mean(name, allowed)}"
            key = True
        elif kind == "missing":
            message = f"required key {loc[-1]!r} is missing" if loc else "required key is missing"
            path = path[:-1]
            key = True
        elif kind in ("value_error", "assertion_error"):
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        elif kind == "literal_error":
            expected = error.get("ctx", {}).get("expected", "")
            message = f"expected one of {expected}, got {_describe(error.get('input'))}"
        elif kind in _TYPE_WORDS:
            message = _TYPE_WORDS[kind]
            if kind != "missing":
                message += f", got {_describe(error.get('input'))}"
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            message = error["msg"].lower() + f", got {_describe(error.get('input'))}"
        elif kind in ("too_short", "too_long"):
            message = "expected at least one item" if kind == "too_short" else error["msg"]
        else:
            message = error["msg"]
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(source.problem(path, message, key=key))
    return problems
