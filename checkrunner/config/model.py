"""Pydantic models of the sections of schedules.yaml (strict: unknown keys are errors).

Checks are not modelled here as one class: their common keys are :class:`CheckCommon` and
their type-specific keys belong to the plugin's ``Options`` model (see ``checks.py``).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    field_validator,
    model_validator,
)

from checkrunner.config.channel_url import check_channel_url
from checkrunner.config.types import (
    Cron,
    Duration,
    GlobList,
    Name,
    NameList,
    Percent,
    PositiveDuration,
    ThresholdExpr,
    TimeZone,
)
from checkrunner.scheduling.cadence import parse_between

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True
    )


def _weekdays(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("expected a list of weekday names (mon … sun)")
    days: list[str] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            raise ValueError(
                f"weekday {item} must be a name (mon … sun): APScheduler counts 0 as Monday "
                "while crontab counts 0 as Sunday, so numbers are ambiguous"
            )
        if not isinstance(item, str) or item.strip().lower()[:3] not in WEEKDAYS:
            raise ValueError(f"unknown weekday {item!r} (use mon, tue, wed, thu, fri, sat, sun)")
        days.append(item.strip().lower()[:3])
    return days


#: Weekday names (mon … sun), at least one; numbers are refused (0 means Monday to
#: APScheduler but Sunday to crontab).
Weekdays = Annotated[list[str], BeforeValidator(_weekdays), Field(min_length=1)]


class Defaults(Model):
    timeout: PositiveDuration = timedelta(seconds=10)
    retries: int = Field(0, ge=0, le=10)
    on_timeout: Literal["unknown", "warning", "critical"] = "critical"


class Channel(Model):
    url: str
    format: Literal["text", "markdown", "html"] = "text"
    max_length: PositiveInt | None = None
    max_per_hour: PositiveInt | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("expected an Apprise URL such as slack://…, mailto://… or json://host/path")
        problem = check_channel_url(value)  # Apprise parses it; no network I/O
        if problem is not None:
            raise ValueError(problem)
        return value


class BaselineSpec(Model):
    window: PositiveDuration = timedelta(days=7)
    min_samples: int = Field(30, ge=1)
    by: Literal["none", "hour_of_day", "hour_of_week"] = "none"


class CheckCommon(Model):
    """Keys every check accepts, whatever its type."""

    type: str
    description: str | None = None
    tags: list[Name] = []
    depends_on: NameList = []
    warn: ThresholdExpr | None = None
    crit: ThresholdExpr | None = None
    for_: Duration | None = Field(None, alias="for")
    severity: Literal["warning", "critical"] | None = None
    timeout: PositiveDuration | None = None
    retries: int | None = Field(None, ge=0, le=10)
    every: PositiveDuration | None = None
    on_timeout: Literal["unknown", "warning", "critical"] | None = None
    baseline: BaselineSpec | None = None
    failures: PositiveInt | None = None
    successes: PositiveInt | None = None
    repeat: PositiveDuration | None = None
    misfire_grace: Duration | None = None


COMMON_KEYS = frozenset((info.alias or name) for name, info in CheckCommon.model_fields.items())


class ReportTarget(Model):
    to: NameList
    when: Literal["always", "problems"] = "always"


class Checklist(Model):
    title: str | None = None
    schedule: Cron
    steps: Annotated[NameList, Field(min_length=1)]
    report: ReportTarget | None = None
    misfire_grace: Duration = timedelta(hours=1)


def _check_between(value: str) -> str:
    parse_between(value)  # raises ValueError with the user-facing message
    return value


#: "HH:MM-HH:MM", start-inclusive, end-exclusive, may cross midnight.
Between = Annotated[str, AfterValidator(_check_between)]


class CadenceStep(Model):
    between: Between | None = None
    every: PositiveDuration

    def bounds(self) -> tuple[time, time] | None:
        return parse_between(self.between) if self.between else None


class Monitor(Model):
    checks: Annotated[NameList, Field(min_length=1)]
    cadence: Annotated[list[CadenceStep], Field(min_length=1)]
    days: Weekdays | None = None
    misfire_grace: Duration | None = None


class Match(Model):
    severity: Annotated[list[Literal["warning", "critical", "unknown"]], Field(min_length=1)] | None = None
    tags: list[Name] | None = None
    check: GlobList | None = None  # names or globs

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class TimeCondition(Model):
    days: Weekdays | None = None
    between: Between | None = None


class Escalation(Model):
    after: PositiveDuration
    to: NameList


class Route(Model):
    match: Match = Match()
    to: NameList
    repeat: PositiveDuration | None = None
    escalate: list[Escalation] = []
    when: TimeCondition | None = None
    continue_: bool = Field(False, alias="continue")


class Flapping(Model):
    results: int = Field(20, ge=4, le=1000)
    high: Percent = 50.0
    low: Percent = 25.0

    @model_validator(mode="after")
    def _order(self) -> Flapping:
        if self.low > self.high:
            raise ValueError(f"flapping low ({self.low}%) must not exceed high ({self.high}%)")
        return self


class Delivery(Model):
    max_backoff: PositiveDuration = timedelta(minutes=10)
    expire: PositiveDuration = timedelta(hours=24)


class Alerting(Model):
    routes: list[Route] = []
    default: NameList = []
    failures: PositiveInt = 1
    successes: PositiveInt = 1
    group_wait: Duration = timedelta(seconds=30)
    repeat: PositiveDuration = timedelta(hours=4)
    recovery: bool = True
    #: After this many consecutive unknown results a check counts as critical (None: never).
    unknown_critical_after: PositiveInt | None = None
    flapping: Flapping = Flapping()
    delivery: Delivery = Delivery()


class Scope(Model):
    tags: list[Name] | None = None
    checks: GlobList | None = None  # names or globs


class Maintenance(Model):
    name: Name
    schedule: Cron
    duration: PositiveDuration
    scope: Scope = Scope()


class Slo(Model):
    checks: Annotated[NameList, Field(min_length=1)]
    objective: Percent
    window: PositiveDuration = timedelta(days=30)


class Report(Model):
    title: str | None = None
    schedule: Cron
    period: Literal["day", "week", "month"]
    to: NameList = []
    scope: Scope = Scope()


class Retention(Model):
    results: PositiveDuration = timedelta(days=30)
    rollups: PositiveDuration = timedelta(days=400)
    notifications: PositiveDuration = timedelta(days=90)


class Server(Model):
    listen: str = "127.0.0.1:8090"
    token: str | None = None
    public_url: str | None = None
    heartbeat_url: str | None = None
    allow_anonymous: bool = False

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) < 65536 or not host:  # 0: any free port
            raise ValueError(f"expected HOST:PORT such as 127.0.0.1:8090, got {value!r}")
        return value

    @field_validator("token", "public_url", "heartbeat_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class Limits(Model):
    """How much the daemon runs at once (checks, not jobs)."""

    concurrency: PositiveInt = 500
    per_host: PositiveInt = 20


class Document(Model):
    """The whole file, with ``checks`` kept raw for the plugin-aware pass."""

    timezone: TimeZone = Field(default_factory=lambda: _utc())
    database: str = "sqlite:///checkrunner.db"
    vars: dict[Name, str | int | float | bool] = {}
    defaults: Defaults = Defaults()
    limits: Limits = Limits()
    checks_dir: str | None = None
    templates_dir: str | None = None
    channels: dict[Name, Channel] = {}
    checks: dict[Name, dict[str, Any]] = {}
    checklists: dict[Name, Checklist] = {}
    monitors: dict[Name, Monitor] = {}
    alerting: Alerting = Alerting()
    maintenance: list[Maintenance] = []
    slos: dict[Name, Slo] = {}
    reports: dict[Name, Report] = {}
    retention: Retention = Retention()
    server: Server = Server()


def _utc() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("UTC")
