"""``${ENV}``, ``${ENV:-default}``, ``$$`` and ``{{ vars.NAME }}`` in string values.

One pass per string, so a value that came from the environment is never interpolated again
(an env value containing ``${X}`` or ``{{`` stays literal). Keys are never interpolated.
``{{ vars.NAME }}`` is the only template form allowed in values: it is substituted once at
load time, never evaluated as code.

Secrets: an env value substituted into a field whose name looks like a secret (token,
password, key …), or into the userinfo or query string of a URL, is registered with the
Redactor so it is masked everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checkrunner.config.source import Path, Source
from checkrunner.core.problems import Problem
from checkrunner.core.redact import SECRET_FIELD, Redactor

_TOKEN = re.compile(
    r"\$\$"
    r"|\$\{(?P<name>[^}:]*)(?::-(?P<default>[^}]*))?\}"
    r"|\{\{\s*(?P<expr>[^}]*?)\s*\}\}"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VAR_EXPR = re.compile(r"vars\.([A-Za-z_][A-Za-z0-9_-]*)")


@dataclass
class Interpolator:
    source: Source
    env: Mapping[str, str]
    redactor: Redactor
    vars: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Names of env vars actually used (for diagnostics).
    used_env: set[str] = field(default_factory=set)

    def string(self, text: str, path: Path, *, allow_vars: bool = True) -> str:
        env_values: list[str] = []

        def replace(match: re.Match[str]) -> str:
            whole = match.group(0)
            if whole == "$$":
                return "$"
            if match.group("expr") is not None:
                return self._var(match.group("expr"), path, allow_vars)
            name = match.group("name") or ""
            default = match.group("default")
            if not _ENV_NAME.fullmatch(name):
                self.problems.append(
                    self.source.problem(
                        path, f"invalid environment reference {whole!r}: use ${{NAME}} or ${{NAME:-default}}"
                    )
                )
                return whole
            self.used_env.add(name)
            value = self.env.get(name)
            if value is None or (value == "" and default is not None):
                if default is None:
                    self.problems.append(
                        self.source.problem(
                            path,
                            f"environment variable {name} is not set "
                            f"(write ${{{name}:-default}} to give a default)",
                        )
                    )
                    return ""
                value = default
            env_values.append(value)
            return value

        result = _TOKEN.sub(replace, text)
        self._register_secrets(result, env_values, path)
        return result

    def _var(self, expr: str, path: Path, allowed: bool) -> str:
        match = _VAR_EXPR.fullmatch(expr)
        if not allowed or match is None:
            self.problems.append(
                self.source.problem(
                    path, f"only {{{{ vars.NAME }}}} may be used in values, found {{{{ {expr} }}}}"
                )
            )
            return ""
        name = match.group(1)
        if name not in self.vars:
            known = ", ".join(sorted(self.vars)) or "none defined"
            self.problems.append(self.source.problem(path, f"unknown variable vars.{name} (known: {known})"))
            return ""
        return self.vars[name]

    def _register_secrets(self, result: str, env_values: list[str], path: Path) -> None:
        if not env_values:
            return
        last_key = next((part for part in reversed(path) if isinstance(part, str)), "")
        if SECRET_FIELD.search(last_key):
            self.redactor.add(result)
            return
        if "://" not in result:
            return
        try:
            parts = urlsplit(result)
            sensitive = " ".join(filter(None, [parts.username, parts.password, parts.query]))
        except ValueError:
            sensitive = result
        for value in env_values:
            if value and value in sensitive:
                self.redactor.add(value)

    def walk(self, value: Any, path: Path) -> Any:
        """Interpolate every string inside ``value`` (keys untouched)."""
        if isinstance(value, str):
            return self.string(value, path)
        if isinstance(value, list):
            return [self.walk(item, (*path, index)) for index, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: self.walk(item, (*path, key)) for key, item in value.items()}
        return value
