import datetime as dt

import pytest

from dailypapers.services.periods import Period, PeriodError, containing, parse_period


def test_parse_day_week_month():
    day = parse_period("day", "2025-11-20")
    assert (day.start, day.end, day.slug, day.path) == (
        dt.date(2025, 11, 20), dt.date(2025, 11, 21), "2025-11-20", "/papers/date/2025-11-20")
    week = parse_period("week", "2025-W47")
    assert (week.start, week.end, week.slug, week.path) == (
        dt.date(2025, 11, 17), dt.date(2025, 11, 24), "2025-W47", "/papers/week/2025-W47")
    month = parse_period("month", "2024-02")
    assert (month.start, month.end, month.slug) == (dt.date(2024, 2, 1), dt.date(2024, 3, 1), "2024-02")


def test_iso_week_across_a_year_boundary():
    # 2025-12-29 (Monday) starts ISO week 1 of 2026.
    week = containing("week", dt.date(2026, 1, 1))
    assert week.slug == "2026-W01" and week.start == dt.date(2025, 12, 29)
    assert parse_period("week", "2026-W01") == week
    assert containing("month", dt.date(2025, 12, 31)).end == dt.date(2026, 1, 1)


def test_labels():
    assert parse_period("day", "2025-11-20").label == "Nov 20, 2025"
    assert parse_period("day", "2025-11-20").short_label == "Nov 20"
    assert parse_period("week", "2025-W47").label == "Week 47, Nov 17 – Nov 23, 2025"
    assert parse_period("month", "2025-11").label == "November 2025"


@pytest.mark.parametrize(("kind", "text"), [
    ("day", "2025-13-01"), ("day", "2025-02-30"), ("day", "20251120"), ("day", "tomorrow"),
    ("week", "2025-W54"), ("week", "2025-47"), ("week", "2025-W00"), ("month", "2025-13"),
    ("month", "2025-1"), ("day", "9999-12-31"), ("month", "9999-12"), ("day", "0000-01-01"),
])
def test_bad_slugs_raise_period_error(kind, text):
    with pytest.raises(PeriodError):
        parse_period(kind, text)


def test_period_is_a_value():
    assert containing("day", dt.date(2025, 1, 1)) == Period("day", dt.date(2025, 1, 1), dt.date(2025, 1, 2))
