"""Business days and working hours from the Russian production calendar (the `holidays` package)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from rules.calendar import BusinessCalendar, CalendarError

MSK = ZoneInfo("Europe/Moscow")
cal = BusinessCalendar()


def at(y, m, d, h=10, mi=0, tz=MSK):
    return datetime(y, m, d, h, mi, tzinfo=tz)


def test_transfers_of_the_production_calendar():
    assert not cal.is_working_day(date(2026, 12, 31))        # a day off moved from Sunday 4 January 2026
    assert not cal.is_working_day(date(2027, 1, 8))          # New Year holidays
    assert cal.is_working_day(date(2027, 1, 11))
    assert cal.is_working_day(date(2027, 2, 20))             # a Saturday made a working day (→ Mon 22 Feb off)
    assert not cal.is_working_day(date(2027, 2, 22))
    assert cal.is_working_day(date(2025, 11, 1))             # Saturday 1 Nov 2025 worked (Mon 3 Nov off)
    assert not cal.is_working_day(date(2025, 11, 3))
    assert not cal.is_working_day(date(2027, 2, 27))         # an ordinary Saturday


def test_a_reminder_due_on_31_december_lands_on_the_first_working_day_of_january():
    # entered the stage on Tue 29 Dec 2026 at 10:00: two calendar days later is 31 Dec (a day off), and
    # 1–10 January 2027 are holidays and a weekend → the 2nd business day is Mon 11 January
    assert cal.add_business_days(at(2026, 12, 29), 2) == at(2027, 1, 11)
    assert cal.add_business_days(at(2026, 12, 29), 1) == at(2026, 12, 30)
    # "2 working hours" from 17:00 on 30 December: 1 h that day, 1 h on 11 January
    assert cal.add_working_hours(at(2026, 12, 30, 17), 2) == at(2027, 1, 11, 10)


def test_a_saturday_made_working_by_the_calendar_counts():
    # Thu 18 Feb 2027 + 2 business days: Fri 19, Sat 20 (working by decree)
    assert cal.add_business_days(at(2027, 2, 18), 2) == at(2027, 2, 20)
    # an ordinary week: Thu + 2 = Mon
    assert cal.add_business_days(at(2027, 3, 11), 2) == at(2027, 3, 15)
    # working hours on that Saturday count too: Fri 17:00 + 3 h = Sat 11:00
    assert cal.add_working_hours(at(2027, 2, 19, 17), 3) == at(2027, 2, 20, 11)
    # and Monday 22 Feb is the day off it was swapped for
    assert cal.add_business_days(at(2027, 2, 20), 1) == at(2027, 2, 24)


def test_time_zone_and_working_hours_per_portal():
    ekb = BusinessCalendar(tz="Asia/Yekaterinburg", start="08:00", end="17:00")
    # 14:00 UTC is 19:00 in Yekaterinburg: after closing → next opening + 2 h
    got = ekb.add_working_hours(datetime(2027, 3, 10, 14, tzinfo=ZoneInfo("UTC")), 2)
    assert got == datetime(2027, 3, 11, 10, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
    # before opening on a day off → the next working day's opening
    assert cal.next_working_moment(at(2027, 1, 3, 5)) == at(2027, 1, 11, 9)
    assert cal.add(at(2027, 3, 10, 12), {"hours": 8}) == at(2027, 3, 10, 20)


@pytest.mark.parametrize("kw,msg", [({"tz": "Mars/Base"}, "time zone"), ({"start": "18:00", "end": "09:00"}, "before"),
                                    ({"start": "9am"}, "HH:MM")])
def test_bad_settings_are_refused(kw, msg):
    with pytest.raises(CalendarError, match=msg):
        BusinessCalendar(**kw)
