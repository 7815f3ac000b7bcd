"""Schedules against independent oracles, and property tests.

The oracles restate the DST promises minute by minute, without the search the code uses:
cron fires a matching wall time the first time the clock shows it, and at the instant the clock
jumps over one; a cadence fires at every instant whose wall time is aligned. Hypothesis then
checks, for generated schedules, zones and instants, that fires are strictly increasing, match
the spec, equal the oracle's over a stretch of time, and that parsing fails only with ValueError.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checkrunner.scheduling import Cadence, CadenceWindow, CronSchedule, parse_between

ZONES = [
    "America/New_York",
    "Europe/London",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "UTC",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
    "Europe/Dublin",
    "Pacific/Apia",
]
TRANSITIONS = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2018, 11, 4, 3, tzinfo=UTC),
    datetime(2019, 2, 17, 2, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2011, 12, 30, 10, tzinfo=UTC),  # Samoa skipped 30 December 2011 entirely
]
PROPERTY = settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

zones = st.sampled_from(ZONES).map(ZoneInfo)
# Half the instants sit within a few days of a DST transition, where the rules matter.
instants = st.one_of(
    st.datetimes(datetime(2010, 1, 1), datetime(2030, 12, 31)).map(lambda naive: naive.replace(tzinfo=UTC)),
    st.tuples(st.sampled_from(TRANSITIONS), st.integers(-3 * 86400, 86400)).map(
        lambda pair: pair[0] + timedelta(seconds=pair[1])
    ),
)


def wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def cron_fire_is_explained(
    fire: datetime, tz: ZoneInfo, matches: Callable[[datetime], bool], step: timedelta
) -> bool:
    """A cron fire is a matching wall time at its first occurrence, or the end of a gap that
    swallowed a matching wall time (``step``: the schedule's resolution)."""
    local = fire.astimezone(tz)
    if matches(wall(fire, tz)) and (
        local.fold == 0 or local.replace(fold=0).utcoffset() == local.utcoffset()
    ):
        return True
    skipped = wall(fire - timedelta(seconds=1), tz) + timedelta(seconds=1)  # where the gap began
    while skipped < wall(fire, tz):
        if matches(skipped):
            return True
        skipped += step
    return False


# -- oracles ------------------------------------------------------------------------------------


def cron_oracle(
    matches: Callable[[datetime], bool],
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    step: timedelta = MINUTE,
    lookback: timedelta = timedelta(days=1),
) -> list[datetime]:
    """Cron fires in (start, end], one ``step`` at a time: a matching wall time fires the first
    time it is seen (scanning from ``lookback`` earlier), and wall times the clock jumps over
    fire at the instant of the jump."""
    seen: set[datetime] = set()
    fires: list[datetime] = []
    previous: datetime | None = None
    instant = start.replace(microsecond=0) - lookback
    instant -= timedelta(seconds=instant.second % step.total_seconds())
    while instant <= end:
        current = wall(instant, tz)
        due = matches(current) and current not in seen
        if previous is not None and current - previous > step:
            skipped = previous + step
            while skipped < current and not due:
                due = matches(skipped)
                skipped += step
        seen.add(current)
        previous = current
        if due and instant > start:
            fires.append(instant)
        instant += step
    return fires


def cadence_matcher(spans: list[tuple[int, int, int]], days: set[int] | None) -> Callable[[datetime], bool]:
    """Windows as (start minute, length minutes, every minutes): a wall time is aligned when a
    window that opened that day or the day before, on an allowed day, reaches it on a step."""

    def matches(value: datetime) -> bool:
        for back in (0, 1):
            opened = (value - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
            if days is not None and opened.weekday() not in days:
                continue
            for start, length, every in spans:
                minutes, rest = divmod(value - opened - timedelta(minutes=start), MINUTE)
                if not rest and 0 <= minutes < length and minutes % every == 0:
                    return True
        return False

    return matches


def cadence_oracle(
    matches: Callable[[datetime], bool], tz: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """Cadence fires in (start, end]: every minute whose wall time is aligned."""
    fires = []
    instant = start.replace(second=0, microsecond=0) + MINUTE
    while instant <= end:
        if matches(wall(instant, tz)):
            fires.append(instant)
        instant += MINUTE
    return fires


TRANSITION_DAYS = [
    ("America/New_York", datetime(2026, 3, 8)),
    ("America/New_York", datetime(2026, 11, 1)),
    ("Europe/London", datetime(2026, 3, 29)),
    ("Europe/London", datetime(2026, 10, 25)),
    ("America/Sao_Paulo", datetime(2018, 11, 4)),
    ("America/Sao_Paulo", datetime(2019, 2, 16)),
    ("Australia/Lord_Howe", datetime(2026, 4, 5)),
    ("Australia/Lord_Howe", datetime(2026, 10, 4)),
]
CRON_CASES: list[tuple[str, Callable[[datetime], bool]]] = [
    ("30 2 * * *", lambda value: (value.hour, value.minute) == (2, 30)),
    ("*/15 * * * *", lambda value: value.minute % 15 == 0),
    ("0,30 0-3 * * *", lambda value: value.minute in (0, 30) and value.hour <= 3),
    ("45 1 * * *", lambda value: (value.hour, value.minute) == (1, 45)),
    ("10 0 * * *", lambda value: (value.hour, value.minute) == (0, 10)),
    ("*/20 23 * * *", lambda value: value.hour == 23 and value.minute % 20 == 0),
]
CADENCE_CASES: list[tuple[list[tuple[int, int, int]], set[int] | None]] = [
    ([(0, 1440, 15)], None),
    ([(0, 1440, 45)], None),
    ([(30, 60, 10)], None),
    ([(1320, 240, 20), (120, 90, 7)], {5, 6}),
]


def day_span(zone: str, day: datetime) -> tuple[ZoneInfo, datetime, datetime]:
    tz = ZoneInfo(zone)
    start = (day - timedelta(days=1)).replace(tzinfo=tz).astimezone(UTC)
    return tz, start, start + timedelta(days=3)


@pytest.mark.parametrize(
    ("zone", "day"), TRANSITION_DAYS, ids=[f"{z} {d:%Y-%m-%d}" for z, d in TRANSITION_DAYS]
)
def test_cron_fires_match_the_oracle_around_transitions(zone: str, day: datetime) -> None:
    tz, start, end = day_span(zone, day)
    for spec, matches in CRON_CASES:
        assert CronSchedule.parse(spec).fires_between(start, end, tz) == cron_oracle(
            matches, tz, start, end
        ), spec


@pytest.mark.parametrize(
    ("zone", "day"), TRANSITION_DAYS, ids=[f"{z} {d:%Y-%m-%d}" for z, d in TRANSITION_DAYS]
)
def test_cadence_fires_match_the_oracle_around_transitions(zone: str, day: datetime) -> None:
    tz, start, end = day_span(zone, day)
    for spans, days in CADENCE_CASES:
        assert build_cadence(spans, days).fires_between(start, end, tz) == cadence_oracle(
            cadence_matcher(spans, days), tz, start, end
        )


# -- crontab ----------------------------------------------------------------------------------


def field(low: int, high: int, size: int) -> st.SearchStrategy[list[int] | None]:
    return st.one_of(st.none(), st.lists(st.integers(low, high), min_size=1, max_size=size, unique=True))


crontabs = st.tuples(field(0, 59, 4), field(0, 23, 3), field(1, 31, 3), field(1, 12, 4), field(0, 7, 3))


def crontab_text(fields: tuple[list[int] | None, ...]) -> str:
    return " ".join("*" if values is None else ",".join(map(str, values)) for values in fields)


def crontab_matcher(fields: tuple[list[int] | None, ...]) -> Callable[[datetime], bool]:
    minutes, hours, doms, months, dows = fields

    def matches(value: datetime) -> bool:
        if value.second or (minutes is not None and value.minute not in minutes):
            return False
        if (hours is not None and value.hour not in hours) or (
            months is not None and value.month not in months
        ):
            return False
        cron_dow = (value.weekday() + 1) % 7  # crontab: 0 = Sunday, and 7 too
        dom_hit = doms is None or value.day in doms
        dow_hit = dows is None or cron_dow in dows or (cron_dow == 0 and 7 in dows)
        if doms is not None and dows is not None:
            return dom_hit or dow_hit  # POSIX: both restricted -> either day matches
        return dom_hit and dow_hit

    return matches


@PROPERTY
@given(crontabs, zones, instants)
def test_crontab_fires_increase_and_each_matches_the_spec(
    fields: tuple[list[int] | None, ...], tz: ZoneInfo, after: datetime
) -> None:
    try:
        schedule = CronSchedule.parse(crontab_text(fields))
    except ValueError:
        assume(False)  # e.g. 30 February: never fires, rejected on purpose
        return
    fires = schedule.fires(after, tz, 5)
    assert fires, "a crontab that fires at all fires again within 400 years"
    assert fires[0] > after
    assert all(a < b for a, b in pairwise(fires))
    matches = crontab_matcher(fields)
    for fire in fires:
        assert fire.utcoffset() == timedelta(0)
        assert cron_fire_is_explained(fire, tz, matches, MINUTE), fire.astimezone(tz)
        assert schedule.previous_fire(fire, tz) == fire
    for earlier, later in pairwise(fires):
        assert schedule.previous_fire(later - timedelta(microseconds=1), tz) == earlier
    # Complete: over the next two days, exactly the oracle's fires.
    horizon = after + timedelta(days=2)
    assert schedule.fires_between(after, horizon, tz) == cron_oracle(matches, tz, after, horizon)


# -- mapping form -----------------------------------------------------------------------------

mappings = st.tuples(
    st.lists(st.integers(0, 23), min_size=1, max_size=3, unique=True),
    st.lists(st.integers(0, 59), min_size=1, max_size=3, unique=True),
    st.lists(st.integers(0, 59), min_size=1, max_size=4, unique=True),
    st.one_of(st.none(), st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True)),
)


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mappings, zones, instants)
def test_mapping_fires_increase_and_each_matches_every_field(
    spec: tuple[list[int], list[int], list[int], list[str] | None], tz: ZoneInfo, after: datetime
) -> None:
    hours, minutes, seconds, weekdays = spec
    mapping: dict[str, object] = {"hour": hours, "minute": minutes, "second": seconds}
    if weekdays is not None:
        mapping["day_of_week"] = ",".join(weekdays)
    schedule = CronSchedule.parse(mapping)

    def matches(value: datetime) -> bool:
        day_ok = weekdays is None or WEEKDAYS[value.weekday()] in weekdays
        return day_ok and value.hour in hours and value.minute in minutes and value.second in seconds

    fires = schedule.fires(after, tz, 5)
    assert fires[0] > after
    assert all(a < b for a, b in pairwise(fires))
    for fire in fires:
        assert cron_fire_is_explained(fire, tz, matches, SECOND), fire.astimezone(tz)
    # Complete: over the next two hours, second by second, exactly the oracle's fires.
    horizon = after + timedelta(hours=2)
    expected = cron_oracle(matches, tz, after, horizon, step=SECOND, lookback=timedelta(hours=2))
    assert schedule.fires_between(after, horizon, tz) == expected


# -- cadences ---------------------------------------------------------------------------------


@st.composite
def cadences(draw: st.DrawFn) -> tuple[Cadence, Callable[[datetime], bool]]:
    """Non-overlapping windows on minute boundaries, maybe one across midnight, and a matcher."""
    every = st.integers(1, 180)
    days = draw(st.one_of(st.none(), st.sets(st.integers(0, 6), min_size=1)))
    if draw(st.booleans()):
        spans = [(0, 1440, draw(every))]
    else:
        count = draw(st.integers(1, 3))
        points = sorted(
            draw(st.lists(st.integers(0, 1439), min_size=2 * count, max_size=2 * count, unique=True))
        )
        if draw(st.booleans()):
            points = [*points[1:], points[0] + 1440]  # rotate: the last window crosses midnight
        spans = [(points[i], points[i + 1] - points[i], draw(every)) for i in range(0, len(points), 2)]
    return build_cadence(spans, days), cadence_matcher(spans, days)


def build_cadence(spans: list[tuple[int, int, int]], days: set[int] | None) -> Cadence:
    """The Cadence for (start minute, length minutes, every minutes) spans; 1440 = whole day."""
    windows = [
        CadenceWindow(None, None, timedelta(minutes=every))
        if length == 1440
        else CadenceWindow(clock(start), clock(start + length), timedelta(minutes=every))
        for start, length, every in spans
    ]
    return Cadence.build(windows, None if days is None else [WEEKDAYS[day] for day in days])


def clock(minutes: int) -> time:
    return time((minutes // 60) % 24, minutes % 60)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(cadences(), zones, instants)
def test_cadence_fires_every_instant_with_an_aligned_local_time_and_no_other(
    cadence: tuple[Cadence, Callable[[datetime], bool]], tz: ZoneInfo, after: datetime
) -> None:
    built, matches = cadence
    fires = built.fires(after, tz, 4)
    assert len(fires) == 4
    assert fires[0] > after
    assert all(a < b for a, b in pairwise(fires))
    assert all(matches(wall(fire, tz)) for fire in fires)
    # Complete: no minute up to the last fire has an aligned wall time without being a fire.
    assert fires == cadence_oracle(matches, tz, after, fires[-1])


# -- parsing never fails with anything but ValueError -----------------------------------------

cron_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789*/-, @LW#?abcdefghijklmnopqrstuvwxyzSUNMON\t", max_size=30),
    st.lists(
        st.text(alphabet="0123456789*/-,abcdefjlmnorstuvwyz", min_size=1, max_size=8), min_size=5, max_size=5
    ).map(" ".join),
)
mapping_values = st.one_of(
    st.integers(-5, 10000),
    st.text(max_size=12),
    st.text(alphabet="0123456789*/-, lastndrhmonwedsu", max_size=14),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.lists(st.one_of(st.integers(-2, 70), st.text(max_size=4)), max_size=3),
)
fuzz_mappings = st.dictionaries(
    st.one_of(
        st.sampled_from(["year", "month", "day", "week", "day_of_week", "hour", "minute", "second", "bogus"]),
        st.text(max_size=5),
    ),
    mapping_values,
    max_size=4,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(cron_text, fuzz_mappings))
def test_parse_raises_nothing_but_value_error(spec: str | dict[str, object]) -> None:
    try:
        schedule = CronSchedule.parse(spec)
    except ValueError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert schedule.next_fire(datetime(1970, 1, 1, tzinfo=UTC), ZoneInfo("UTC")) is not None


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.text(max_size=20), st.text(alphabet="0123456789:- ", max_size=14)))
def test_parse_between_raises_nothing_but_value_error(text: str) -> None:
    try:
        start, end = parse_between(text)
    except ValueError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert start != end
