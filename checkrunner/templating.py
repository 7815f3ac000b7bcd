"""The one Jinja environment: the user's templates folder first, then the shipped ones.

Autoescaping is on for ``.html`` templates (values from checked systems are hostile until
proven otherwise) and off for text and markdown; undefined names are errors, so a broken
template fails when it is rendered in tests or by ``validate``, not silently at 09:00.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2


def builtin_templates_dir() -> Path:
    """Shipped templates: inside the package when installed, at the repo top in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_templates"
    return installed if installed.is_dir() else here.parent / "templates"


def _autoescape(name: str | None) -> bool:
    return bool(name) and str(name).endswith((".html", ".html.j2", ".htm"))


def make_environment(user_dir: Path | None = None, tz: tzinfo | None = None) -> jinja2.Environment:
    search = [str(p) for p in (user_dir, builtin_templates_dir()) if p is not None and p.is_dir()]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def localtime(value: datetime, fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
        return (value.astimezone(tz) if tz else value).strftime(fmt)

    env.filters["localtime"] = localtime
    return env


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
