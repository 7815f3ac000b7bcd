"""``type: heartbeat``: a dead man's switch, judged from the pings a job sends.

Options::

    schedule: "0 3 * * *"   # when runs are expected: crontab or a mapping of cron fields …
    period: 1d              # … or every how long (the default when neither is given)
    grace: 2h               # how late a ping may be before the check turns critical
    key: "${BACKUP_PING_KEY:-}"    # the ping key (secret); the daemon generates one if empty

The job pings ``/ping/<name>`` (success), ``/ping/<name>/start`` and ``/ping/<name>/fail``;
the runner hands what was recorded to the plugin as ``ctx.pings``. Evaluation is pure
(:func:`evaluate`, no I/O):

* a failure reported after the last success is critical ("reported failure (exit N)");
* with ``period``: critical once ``last ping (or watching_since when none came) + period +
  grace`` has passed ("no ping for 1d 2h (expected every 1d, grace 1h)");
* with ``schedule``: the latest expected fire ``<= now`` must be followed by a ping within
  ``grace``; a started run (``/start`` after the last ping) inside grace is ok ("running
  since …"). A fire before ``watching_since`` with no ping ever is not judged: the ping may
  have come while nobody listened.

``value`` = seconds since the last ping (None before the first).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, PrivateAttr, field_validator, model_validator

from checkrunner.core.durations import format_age, format_duration, parse_duration
from checkrunner.core.errors import CheckFailed
from checkrunner.core.result import Observation, one_line
from checkrunner.core.status import Status
from checkrunner.plugins.contract import CheckContext, CheckOptions, CheckPlugin, PingState, secret
from checkrunner.scheduling.cron import CronSchedule

DEFAULT_PERIOD = timedelta(days=1)


class FireSchedule(Protocol):
    """What :func:`evaluate` needs of a schedule (CronSchedule provides it)."""

    def previous_fire(self, at: datetime, tz: ZoneInfo) -> datetime | None: ...

    def next_fire(self, after: datetime, tz: ZoneInfo) -> datetime | None: ...


class HeartbeatOptions(CheckOptions):
    # Errors must not echo the input: it may hold a password, a token or a ping key.
    model_config = ConfigDict(hide_input_in_errors=True)

    schedule: str | dict[str, Any] | None = None
    period: timedelta | None = None
    grace: timedelta = timedelta(hours=1)
    key: str = secret("")
    _cron: CronSchedule | None = PrivateAttr(None)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, raw: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if raw is not None:
            CronSchedule.parse(raw)  # ValueError: a config error at load, never at fire time
        return raw

    @field_validator("period", "grace", mode="before")
    @classmethod
    def _duration(cls, raw: Any) -> Any:
        return raw if raw is None or isinstance(raw, timedelta) else parse_duration(raw)

    @field_validator("period")
    @classmethod
    def _positive(cls, period: timedelta | None) -> timedelta | None:
        if period is not None and period <= timedelta(0):
            raise ValueError("period must be longer than 0s")
        return period

    @model_validator(mode="after")
    def _one_rule(self) -> HeartbeatOptions:
        if self.schedule is not None and self.period is not None:
            raise ValueError("give schedule: (when runs are due) or period: (how often), not both")
        if self.schedule is not None:
            self._cron = CronSchedule.parse(self.schedule)
        return self

    @property
    def cron(self) -> CronSchedule | None:
        return self._cron

    @property
    def every(self) -> timedelta:
        return self.period or DEFAULT_PERIOD


class HeartbeatCheck(CheckPlugin[HeartbeatOptions]):
    type = "heartbeat"
    Options = HeartbeatOptions
    needs_pings = True
    self_scheduled = True

    def describe(self, options: HeartbeatOptions) -> str:
        rule = f"schedule {options.cron.text}" if options.cron else f"every {format_duration(options.every)}"
        return f"pings expected {rule}, grace {format_duration(options.grace)}"

    async def run(self, options: HeartbeatOptions, ctx: CheckContext) -> Observation:
        return evaluate(
            ctx.pings or PingState(),
            ctx.now,
            zone(ctx.tz),
            grace=options.grace,
            period=None if options.cron else options.every,
            schedule=options.cron,
        )


def zone(tz: tzinfo) -> ZoneInfo:
    """The ZoneInfo schedules need; the context's default ``datetime.UTC`` maps to UTC."""
    if isinstance(tz, ZoneInfo):
        return tz
    if tz.utcoffset(None) == timedelta(0):
        return ZoneInfo("UTC")
    raise CheckFailed(f"timezone {tz} is not an IANA zone")


def evaluate(
    pings: PingState,
    now: datetime,
    tz: ZoneInfo,
    *,
    grace: timedelta,
    period: timedelta | None = None,
    schedule: FireSchedule | None = None,
) -> Observation:
    """The status of a heartbeat at ``now`` (pure). Give exactly one of period and schedule."""
    last = pings.last_ping
    value = (now - last).total_seconds() if last else None
    if pings.last_fail and (last is None or pings.last_fail > last):
        code = "" if pings.last_exit_code is None else f" (exit {pings.last_exit_code})"
        summary = f"reported failure{code} {format_age(now - pings.last_fail)} ago"
        return Observation(Status.CRITICAL, summary, value=value)
    running = pings.last_start if pings.last_start and (last is None or pings.last_start > last) else None
    if schedule is not None:
        status, summary = _by_schedule(schedule, pings, now, tz, grace, running)
    elif period is not None:
        status, summary = _by_period(period, pings, now, tz, grace, running)
    else:
        raise ValueError("evaluate() needs a period or a schedule")
    return Observation(status, one_line(summary), value=value)


def _by_period(
    period: timedelta,
    pings: PingState,
    now: datetime,
    tz: ZoneInfo,
    grace: timedelta,
    running: datetime | None,
) -> tuple[Status, str]:
    rule = f"expected every {format_duration(period)}, grace {format_duration(grace)}"
    since = pings.last_ping or pings.watching_since
    if since is None:
        return Status.UNKNOWN, "no ping recorded and no watch start known"
    if now <= since + period + grace:
        if running:
            return Status.OK, f"running since {local(running, tz)} ({format_age(now - running)})"
        if pings.last_ping is None:
            return Status.OK, f"waiting for the first ping (due by {local(since + period + grace, tz)})"
        return Status.OK, f"last ping {format_age(now - since)} ago ({rule})"
    if pings.last_ping is None:
        return Status.CRITICAL, f"no ping since watching started {format_age(now - since)} ago ({rule})"
    started = f"; a run started {format_age(now - running)} ago" if running else ""
    return Status.CRITICAL, f"no ping for {format_age(now - since)} ({rule}){started}"


def _by_schedule(
    schedule: FireSchedule,
    pings: PingState,
    now: datetime,
    tz: ZoneInfo,
    grace: timedelta,
    running: datetime | None,
) -> tuple[Status, str]:
    fire = schedule.previous_fire(now, tz)
    last = pings.last_ping
    if fire is None or (last is None and pings.watching_since and fire < pings.watching_since):
        upcoming = schedule.next_fire(now, tz)
        due = f"next run due {local(upcoming, tz)}" if upcoming else "no run due"
        return Status.OK, f"waiting for the first ping ({due})"
    if last is not None and last >= fire:
        return Status.OK, f"last ping {format_age(now - last)} ago, for the run due {local(fire, tz)}"
    if running is not None and running < fire:
        running = None  # a start from an earlier run says nothing about this one
    if now <= fire + grace:
        if running:
            return Status.OK, f"running since {local(running, tz)} ({format_age(now - running)})"
        return Status.OK, f"run due {local(fire, tz)}, waiting (grace until {local(fire + grace, tz)})"
    before = f"last ping {format_age(now - last)} ago" if last else "never pinged"
    if running:
        return Status.CRITICAL, (
            f"run started {local(running, tz)} has not finished (grace {format_duration(grace)}; {before})"
        )
    return (
        Status.CRITICAL,
        f"no ping for the run due {local(fire, tz)} (grace {format_duration(grace)}; {before})",
    )


def local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
