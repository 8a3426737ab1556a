"""Local days and months: the one place budgets, reports, filters and rituals take
them from, including across daylight-saving changes and year ends."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.calendar import (
    day_start,
    last_days,
    local_midnight,
    local_time,
    month_bounds,
    month_of,
    month_start,
    months_back,
)

SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")


def test_a_local_day_and_month_start_at_local_midnight():
    moment = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 December in Shanghai
    assert month_of(moment, SHANGHAI) == "2026-12" and month_of(moment, UTC) == "2026-11"
    assert day_start(moment, SHANGHAI) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert month_start(moment, SHANGHAI) == day_start(moment, SHANGHAI)
    assert local_time(moment, SHANGHAI) == "2026-12-01 00:30"
    assert local_midnight(date(2026, 11, 23), UTC) == datetime(2026, 11, 23, tzinfo=UTC)


def test_daylight_saving_days_keep_their_midnights():
    spring = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # New York springs forward at 02:00
    assert day_start(spring, NEW_YORK) == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert month_start(spring, NEW_YORK) == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    start, end = month_bounds("2026-11", NEW_YORK)  # falls back on 1 November
    assert (start, end) == (datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
                            datetime(2026, 12, 1, 5, 0, tzinfo=UTC))


def test_months_and_windows_cross_year_ends():
    assert month_bounds("2026-12", UTC) == (datetime(2026, 12, 1, tzinfo=UTC),
                                            datetime(2027, 1, 1, tzinfo=UTC))
    assert months_back("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert len(months_back("2026-11", 12)) == 12
    since, until = last_days(datetime(2026, 1, 1, 3, tzinfo=UTC), SHANGHAI, 90)
    assert until == datetime(2026, 1, 1, 16, tzinfo=UTC)  # the end of 1 January, local
    assert until - since == timedelta(days=90)
    for malformed in ("11-2026", "2026-13", "2026"):
        with pytest.raises(ValueError):
            month_bounds(malformed, UTC)
