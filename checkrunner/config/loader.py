"""schedules.yaml -> validated immutable Config, reporting every problem at once.

Order: read -> YAML with positions -> ``vars`` -> ``${ENV}``/``{{ vars.x }}`` in every other
string -> each section and each entry validated on its own (so one bad checklist does not hide
the problems of the others) -> checks through their plugins -> cross-references -> warnings.
Nothing here raises anything but ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from checkrunner.config.checks import build_check
from checkrunner.config.errors import did_you_mean, validation_problems
from checkrunner.config.interpolate import Interpolator
from checkrunner.config.model import Document, Monitor
from checkrunner.config.references import check_references
from checkrunner.config.source import Source, parse_yaml
from checkrunner.config.spec import CheckSpec, Config, MonitorSpec
from checkrunner.core.errors import ConfigError
from checkrunner.core.problems import Problem
from checkrunner.core.redact import Redactor
from checkrunner.plugins.registry import PluginError, Registry, discover
from checkrunner.scheduling.cadence import Cadence, CadenceWindow
from checkrunner.scheduling.herds import spread_herds

#: lint(document, checks) -> [(key path, message)]: extra warnings (see load_config).
Lint = Callable[[Document, Mapping[str, CheckSpec]], Sequence[tuple[tuple[str, ...], str]]]

DATABASE_ENV = "CHECKRUNNER_DATABASE_URL"
_DICT_SECTIONS = ("channels", "checklists", "monitors", "slos", "reports")


def _section_model(name: str) -> Any:
    annotation = Document.model_fields[name].annotation
    if get_origin(annotation) is dict:
        return get_args(annotation)[1]
    return annotation


def _validate_sections(source: Source, data: dict[str, Any]) -> tuple[Document, list[Problem]]:
    """Validate each top-level section (and each entry of named sections) separately, so one
    bad entry does not hide the others' problems; what failed falls back to its default."""
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    fields = {info.alias or name: name for name, info in Document.model_fields.items()}
    for key, value in data.items():
        if key not in fields:
            problems.append(
                source.problem((key,), f"unknown key {key!r}{did_you_mean(key, fields)}", key=True)
            )
            continue
        if key == "checks":
            continue
        if key in _DICT_SECTIONS and isinstance(value, dict):
            model = _section_model(key)
            entries: dict[str, Any] = {}
            for name, entry in value.items():
                try:
                    entries[name] = model.model_validate(entry)
                except ValidationError as exc:
                    problems += validation_problems(exc, source, (key, name), model)
            clean[key] = entries
            continue
        info = Document.model_fields[fields[key]]
        annotation = info.annotation
        # FieldInfo.annotation drops Annotated[...] validators; put them back.
        full: Any = Annotated[annotation, *info.metadata] if info.metadata else annotation
        try:
            clean[key] = TypeAdapter(full).validate_python(value)
        except ValidationError as exc:
            problems += validation_problems(exc, source, (key,), _inner_model(annotation))
    # Checks are validated through their plugins (checks.py); the document keeps their names.
    raw_checks = data.get("checks")
    clean["checks"] = {name: {} for name in raw_checks} if isinstance(raw_checks, dict) else {}
    try:
        return Document.model_validate(clean), problems
    except ValidationError as exc:  # e.g. an invalid name as a key of a named section
        return Document(), problems + validation_problems(exc, source, (), Document)


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found:
            return found
    return None


def _monitor_spec(name: str, monitor: Monitor, source: Source) -> tuple[MonitorSpec | None, list[Problem]]:
    windows = []
    for step in monitor.cadence:
        bounds = step.bounds()
        start, end = bounds if bounds else (None, None)
        windows.append(CadenceWindow(start, end, step.every))
    try:
        cadence = Cadence.build(windows, monitor.days)
    except ValueError as exc:
        return None, [source.problem(("monitors", name, "cadence"), str(exc))]
    grace = monitor.misfire_grace if monitor.misfire_grace is not None else min(w.every for w in windows)
    return MonitorSpec(name, tuple(monitor.checks), cadence, grace), []


def _implicit_monitor(check: CheckSpec) -> MonitorSpec:
    every = check.common.every
    assert every is not None
    cadence = Cadence.build([CadenceWindow(None, None, every)], None)
    grace = check.common.misfire_grace if check.common.misfire_grace is not None else every
    return MonitorSpec(check.name, (check.name,), cadence, grace, implicit=True)


def _resolve_database(url: str, base_dir: Path) -> str:
    """Relative SQLite paths are relative to the config file's folder, not the cwd."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix) :]
        if rest and not rest.startswith(":memory:") and not rest.startswith("file:"):
            return prefix + str((base_dir / rest).resolve())
    return url


def load_config(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    *,
    registry: Registry | None = None,
    lints: Sequence[Lint] = (),
) -> Config:
    """Load and validate ``path``; raises ConfigError carrying every problem (and warnings).

    ``lints`` are extra warnings from rooms that know more than the config (alerting's route
    coverage): each gets the validated document and checks and returns (key path, message)
    pairs; they run only on a config without errors."""
    env = os.environ if env is None else env
    file = str(path)
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(file, 0, 0, "", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(file, 0, 0, "", "is a directory, not a YAML file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError([Problem(file, 0, 0, "", f"cannot read: {reason}")]) from None
    source, problems = parse_yaml(text, file)
    if any(p.path == "(yaml)" for p in problems):
        raise ConfigError(problems)
    data = source.data
    if not isinstance(data, dict):
        raise ConfigError(
            [source.problem((), "the file must be a mapping of sections (timezone:, checks:, …)")]
        )
    redactor = Redactor()
    interp = Interpolator(source, env, redactor)
    raw_vars = data.get("vars") or {}
    if isinstance(raw_vars, dict):
        for name, value in raw_vars.items():
            if isinstance(value, str):
                interp.vars[name] = interp.string(value, ("vars", name), allow_vars=False)
            elif isinstance(value, int | float | bool):
                interp.vars[name] = str(value)
    data = {key: (value if key == "vars" else interp.walk(value, (key,))) for key, value in data.items()}
    if isinstance(raw_vars, dict):
        data["vars"] = {k: interp.vars.get(k, v) for k, v in raw_vars.items()}
    problems += interp.problems

    base_dir = config_path.resolve().parent
    checks_dir_raw = data.get("checks_dir")
    user_dir = base_dir / (checks_dir_raw if isinstance(checks_dir_raw, str) else "checks")
    if registry is None:
        try:
            registry = discover(user_dir)
        except PluginError as exc:
            problems.append(source.problem(("checks_dir",), str(exc)))
            registry = discover(None)

    document, section_problems = _validate_sections(source, data)
    problems += section_problems
    defaults = document.defaults

    checks: dict[str, CheckSpec] = {}
    raw_checks = data.get("checks")
    if raw_checks is not None and not isinstance(raw_checks, dict):
        problems.append(source.problem(("checks",), "expected a mapping of check names to checks"))
        raw_checks = {}
    for name, raw in (raw_checks or {}).items():
        spec, check_problems = build_check(str(name), raw, source, registry, defaults, redactor)
        problems += check_problems
        if spec is not None:
            checks[spec.name] = spec

    monitors: dict[str, MonitorSpec] = {}
    for name, monitor in document.monitors.items():
        spec_m, monitor_problems = _monitor_spec(name, monitor, source)
        problems += monitor_problems
        if spec_m is not None:
            monitors[name] = spec_m
    for check in checks.values():
        if check.common.every is not None and check.name not in monitors:
            try:
                monitors[check.name] = _implicit_monitor(check)
            except ValueError as exc:
                problems.append(source.problem(("checks", check.name, "every"), str(exc)))
    spread = spread_herds({name: monitor.cadence for name, monitor in monitors.items()})
    monitors = {name: replace(monitor, cadence=spread[name]) for name, monitor in monitors.items()}

    raw_channels = data.get("channels")
    problems += check_references(
        source,
        document,
        checks,
        (raw_checks or {}).keys(),
        raw_channels.keys() if isinstance(raw_channels, dict) else (),
    )

    for channel in document.channels.values():
        redactor.add_url_credentials(channel.url, path_tokens=True)
    redactor.add(document.server.token)
    database_url = env.get(DATABASE_ENV) or document.database
    redactor.add_url_credentials(database_url)
    database_url = _resolve_database(database_url, base_dir)

    if not any(p.severity == "error" for p in problems):
        for lint in lints:
            problems += [
                source.problem(key, message, warning=True) for key, message in lint(document, checks)
            ]
    problems = [Problem(p.file, p.line, p.col, p.path, redactor(p.message), p.severity) for p in problems]
    errors = [p for p in problems if p.severity == "error"]
    warnings = tuple(p for p in problems if p.severity == "warning")
    if errors:
        raise ConfigError(sorted(errors, key=lambda p: (p.line, p.col)) + list(warnings))
    return Config(
        path=config_path,
        document=document,
        checks=checks,
        monitors=monitors,
        registry=registry,
        redactor=redactor,
        database_url=database_url,
        warnings=warnings,
        text=text,
    )


__all__ = ["DATABASE_ENV", "Lint", "load_config"]
