"""The validated, immutable configuration handed to the rest of checkrunner."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from checkrunner.config.model import BaselineSpec, Channel, CheckCommon, Checklist, Document, Monitor
from checkrunner.core.problems import Problem
from checkrunner.core.redact import Redactor
from checkrunner.core.status import Status
from checkrunner.core.thresholds import Threshold
from checkrunner.plugins.contract import CheckOptions, CheckPlugin
from checkrunner.plugins.registry import Registry
from checkrunner.scheduling.cadence import Cadence


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check: its plugin and options, plus the common keys resolved against defaults."""

    name: str
    plugin: CheckPlugin  # type: ignore[type-arg]
    options: CheckOptions
    common: CheckCommon
    timeout: timedelta
    retries: int
    on_timeout: Status
    baseline: BaselineSpec
    #: Whether a threshold compares with the check's history (computed once: read every run).
    uses_baseline: bool = field(init=False)

    def __post_init__(self) -> None:
        uses = any(t is not None and t.uses_baseline for t in (self.common.warn, self.common.crit))
        object.__setattr__(self, "uses_baseline", uses)

    @property
    def type(self) -> str:
        return self.plugin.type

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self.common.tags)

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(self.common.depends_on)

    @property
    def warn(self) -> Threshold | None:
        return self.common.warn

    @property
    def crit(self) -> Threshold | None:
        return self.common.crit


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """A time-of-day cadence that fires ``checks`` together (explicit, or a check's ``every``)."""

    name: str
    checks: tuple[str, ...]
    cadence: Cadence
    misfire_grace: timedelta
    implicit: bool = False


@dataclass(frozen=True)
class Config:
    path: Path
    document: Document
    checks: Mapping[str, CheckSpec]
    monitors: Mapping[str, MonitorSpec]
    registry: Registry
    redactor: Redactor
    database_url: str
    warnings: tuple[Problem, ...] = ()
    #: Raw text of the file, kept to detect edits that change nothing.
    text: str = field(default="", repr=False)

    @functools.cached_property
    def base_dir(self) -> Path:
        # Cached: resolving the path costs a syscall per run otherwise.
        return self.path.resolve().parent

    @property
    def timezone(self) -> ZoneInfo:
        return self.document.timezone

    @property
    def checklists(self) -> Mapping[str, Checklist]:
        return self.document.checklists

    @property
    def channels(self) -> Mapping[str, Channel]:
        return self.document.channels

    @property
    def explicit_monitors(self) -> Mapping[str, Monitor]:
        return self.document.monitors

    @property
    def templates_dir(self) -> Path | None:
        """The user's templates folder (``templates_dir:``, default ``templates/`` beside the file)."""
        folder = self.base_dir / (self.document.templates_dir or "templates")
        return folder if folder.is_dir() else None

    def check(self, name: str) -> CheckSpec:
        return self.checks[name]
