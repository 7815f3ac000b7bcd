from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkrunner.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        (10, 10),
        (0.5, 0.5),
        ("45", 45),
        ("0s", 0),
    ],
    ids=["ms", "s", "m", "h", "d", "w", "compound", "int", "float", "bare-string", "zero"],
)
def test_durations_parse_to_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text",
    ["", "5 minutes", "m5", "-5s", "1.5.2s", True, None, [], "5x"],
    ids=["empty", "words", "unit-first", "negative", "two-dots", "bool", "none", "list", "bad-unit"],
)
def test_invalid_durations_raise_value_error_with_a_hint(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**8))
def test_format_then_parse_round_trips_whole_milliseconds(ms: int) -> None:
    delta = timedelta(milliseconds=ms)
    assert parse_duration(format_duration(delta)) == delta


@given(st.text(max_size=30))
def test_parse_never_raises_anything_but_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_duration(text)


def test_since_takes_a_duration_back_from_now_or_a_date_in_the_config_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from checkrunner.core.durations import parse_since

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    assert parse_since("24h", now, sao_paulo) == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-21", now, sao_paulo) == datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert parse_since("2026-11-21T00:00:00+00:00", now, sao_paulo) == datetime(2026, 11, 21, tzinfo=UTC)
    with pytest.raises(ValueError, match="expected a duration"):
        parse_since("yesterday", now, sao_paulo)
