"""Annotated field types of the config models: each parses a YAML scalar into an object at
load time (durations, thresholds, crontabs, percents, timezones) with a one-line message."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, PlainValidator

from checkrunner.core.durations import parse_duration
from checkrunner.core.thresholds import Threshold, parse_threshold
from checkrunner.scheduling.cron import CronSchedule

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _duration(value: Any) -> timedelta:
    return parse_duration(value)


def _positive_duration(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


def _threshold(value: Any) -> Threshold:
    return parse_threshold(value)


def _cron(value: Any) -> CronSchedule:
    if isinstance(value, CronSchedule):
        return value
    if not isinstance(value, str | dict):
        raise ValueError(
            f'expected a crontab string ("0 9 * * *") or a mapping of cron fields, got {value!r}'
        )
    return CronSchedule.parse(value)


def _percent(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage such as 99.9%, got {value!r}")
    text = str(value).strip()
    try:
        number = float(text.removesuffix("%").strip())
    except ValueError:
        raise ValueError(f"expected a percentage such as 99.9%, got {value!r}") from None
    if not 0 <= number <= 100:
        raise ValueError(f"a percentage lies between 0% and 100%, got {value!r}")
    return number


def _timezone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an IANA timezone name such as America/Sao_Paulo, got {value!r}")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/London)") from None


def _name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(
            f"invalid name {value!r}: use letters, digits, '-', '_' and '.', starting with a letter or digit"
        )
    return value


GLOB_RE = re.compile(r"^[A-Za-z0-9_.\-*?\[\]!]+$")


def _name_or_glob(value: str) -> str:
    if not GLOB_RE.match(value):
        raise ValueError(f"invalid name or glob {value!r}: use a check name or a pattern such as api-*")
    return value


def is_glob(value: str) -> bool:
    return any(c in value for c in "*?[")


def _str_list(value: Any) -> Any:
    """Accept a single string where a list of names is expected (``to: slack-ops``)."""
    return [value] if isinstance(value, str) else value


Duration = Annotated[timedelta, PlainValidator(_duration)]
PositiveDuration = Annotated[timedelta, PlainValidator(_duration), AfterValidator(_positive_duration)]
ThresholdExpr = Annotated[Threshold, PlainValidator(_threshold)]
Cron = Annotated[CronSchedule, PlainValidator(_cron)]
Percent = Annotated[float, PlainValidator(_percent)]
TimeZone = Annotated[ZoneInfo, PlainValidator(_timezone)]
Name = Annotated[str, AfterValidator(_name)]
NameList = Annotated[list[Name], BeforeValidator(_str_list)]
#: Check names or shell-style globs (``api-*``), one or a list.
GlobList = Annotated[list[Annotated[str, AfterValidator(_name_or_glob)]], BeforeValidator(_str_list)]
