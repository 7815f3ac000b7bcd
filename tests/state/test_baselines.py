from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from checkrunner.state.baselines import select_samples

SP = ZoneInfo("America/Sao_Paulo")


def test_hour_of_week_compares_with_the_same_local_hour_of_past_weeks() -> None:
    now = datetime(2026, 11, 23, 9, 30, tzinfo=SP)  # a Monday
    samples = [
        (now - timedelta(weeks=1), 10.0),  # last Monday 09:30 -> in
        (now - timedelta(weeks=1, hours=1), 99.0),  # last Monday 08:30 -> out
        (now - timedelta(days=1), 55.0),  # Sunday 09:30 -> out
        ((now - timedelta(weeks=2)).astimezone(UTC), 12.0),  # stored in UTC, same local hour -> in
    ]
    assert select_samples(samples, now, SP, "hour_of_week") == [10.0, 12.0]
    assert select_samples(samples, now, SP, "hour_of_day") == [10.0, 55.0, 12.0]
    assert len(select_samples(samples, now, SP, "none")) == 4
