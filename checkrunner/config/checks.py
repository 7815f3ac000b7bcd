"""Building CheckSpecs: common keys via CheckCommon, type-specific keys via the plugin's Options."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from checkrunner.config.errors import did_you_mean, validation_problems
from checkrunner.config.model import COMMON_KEYS, BaselineSpec, CheckCommon, Defaults
from checkrunner.config.source import Source
from checkrunner.config.spec import CheckSpec
from checkrunner.core.problems import Problem
from checkrunner.core.redact import Redactor
from checkrunner.core.status import Status
from checkrunner.plugins.contract import option_secrets
from checkrunner.plugins.registry import Registry


def build_check(
    name: str,
    raw: Any,
    source: Source,
    registry: Registry,
    defaults: Defaults,
    redactor: Redactor,
) -> tuple[CheckSpec | None, list[Problem]]:
    path = ("checks", name)
    if not isinstance(raw, dict):
        return None, [source.problem(path, "expected a mapping with at least a type: key")]
    kind = raw.get("type")
    if kind is None:
        return None, [source.problem(path, "required key 'type' is missing", key=True)]
    if not isinstance(kind, str):
        return None, [source.problem((*path, "type"), f"expected a check type name, got {kind!r}")]
    plugin = registry.get(kind)
    if plugin is None:
        known = ", ".join(registry.types())
        return None, [
            source.problem(
                (*path, "type"),
                f"unknown check type {kind!r}{did_you_mean(kind, registry.types())} (known: {known})",
            )
        ]
    common_raw = {key: value for key, value in raw.items() if key in COMMON_KEYS}
    options_raw = {key: value for key, value in raw.items() if key not in COMMON_KEYS}
    problems: list[Problem] = []
    common: CheckCommon | None = None
    options = None
    try:
        common = CheckCommon.model_validate(common_raw)
    except ValidationError as exc:
        problems += validation_problems(exc, source, path, CheckCommon)
    try:
        options = plugin.Options.model_validate(options_raw)
    except ValidationError as exc:
        problems += validation_problems(exc, source, path, plugin.Options, extra_choices=sorted(COMMON_KEYS))
    if common is None or options is None:
        return None, problems
    for secret in option_secrets(options):
        redactor.add(secret)
    on_timeout = common.on_timeout or defaults.on_timeout
    timeout: timedelta = common.timeout or defaults.timeout
    spec = CheckSpec(
        name=name,
        plugin=plugin,
        options=options,
        common=common,
        timeout=timeout,
        retries=common.retries if common.retries is not None else defaults.retries,
        on_timeout=Status.parse(on_timeout),
        baseline=common.baseline or BaselineSpec(),
    )
    return spec, problems
