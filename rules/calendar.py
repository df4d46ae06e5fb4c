"""Business days and working hours as a Russian office counts them: the production calendar of the
`holidays` package (``country_holidays("RU")``: public holidays, the days off they are moved to, and the
Saturdays/Sundays the government's decree makes working days — ``weekend_workdays``), a portal's time
zone and its working hours. Never a hand-kept list of dates.

What "N business days" means here: the same time of day N working days later (a deal that entered a
stage on Tuesday 10:00 is "2 business days" late on Thursday 10:00; counted from a day off, the count
starts at the next working day's opening). "N working hours" walks the working intervals of working days
(09:00–18:00 by default: 2 working hours from 17:00 is 10:00 of the next working day). A moment outside
the working hours is moved to the next opening, so nobody gets a reminder at 03:00 or on New Year's day.
Shortened pre-holiday days are not modelled (the library does not publish them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_TZ = "Europe/Moscow"
DEFAULT_HOURS = ("09:00", "18:00")
MAX_SCAN_DAYS = 800          # more consecutive days off than this = a broken calendar, not a long holiday


class CalendarError(ValueError):
    """A time zone, working hours or a duration that cannot be used."""


@lru_cache(maxsize=8)
def _production_calendar(country: str):
    return holidays.country_holidays(country)       # years are filled lazily as dates are asked


def _hhmm(value: str, what: str) -> time:
    try:
        h, m = str(value).split(":")
        return time(int(h), int(m))
    except (ValueError, TypeError):
        raise CalendarError(f"{what}: {value!r} is not HH:MM") from None


@dataclass(frozen=True)
class BusinessCalendar:
    tz: str = DEFAULT_TZ
    start: str = DEFAULT_HOURS[0]
    end: str = DEFAULT_HOURS[1]
    country: str = "RU"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"unknown time zone {self.tz!r}") from None
        if _hhmm(self.start, "start") >= _hhmm(self.end, "end"):
            raise CalendarError(f"working hours {self.start}–{self.end}: the start must be before the end")

    @classmethod
    def of(cls, conf: dict | None) -> "BusinessCalendar":
        conf = conf or {}
        hours = conf.get("hours") or DEFAULT_HOURS
        return cls(tz=conf.get("tz") or DEFAULT_TZ, start=hours[0], end=hours[1])

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    # --- days ---------------------------------------------------------------------------------------
    def is_working_day(self, d: date) -> bool:
        """Mon–Fri that is not a holiday or a day off moved by decree, or a weekend day made working."""
        return _production_calendar(self.country).is_working_day(d)

    def next_working_day(self, d: date, *, include: bool = False) -> date:
        d = d if include else d + timedelta(days=1)
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise CalendarError(f"no working day within {MAX_SCAN_DAYS} days of {d}")

    # --- moments ------------------------------------------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise CalendarError("a moment without a time zone")
        return moment.astimezone(self._zone)

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self._zone)

    def opening(self, d: date) -> datetime:
        return self._at(d, _hhmm(self.start, "start"))

    def closing(self, d: date) -> datetime:
        return self._at(d, _hhmm(self.end, "end"))

    def is_working_time(self, moment: datetime) -> bool:
        m = self.local(moment)
        return self.is_working_day(m.date()) and self.opening(m.date()) <= m < self.closing(m.date())

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is within working hours, else the next opening."""
        m = self.local(moment)
        d = m.date()
        if self.is_working_day(d):
            if m < self.opening(d):
                return self.opening(d)
            if m < self.closing(d):
                return m
        return self.opening(self.next_working_day(d))

    def add_business_days(self, moment: datetime, n: int) -> datetime:
        """The same local time ``n`` working days later (clamped into the working hours)."""
        if n < 0:
            raise CalendarError("business days must not be negative")
        m = self.next_working_moment(moment)
        d = m.date()
        for _ in range(int(n)):
            d = self.next_working_day(d)
        return self.next_working_moment(self._at(d, m.timetz().replace(tzinfo=None)))

    def add_working_hours(self, moment: datetime, hours: float) -> datetime:
        """``hours`` of working time after ``moment`` (only time within the working hours counts)."""
        if hours < 0:
            raise CalendarError("working hours must not be negative")
        m = self.next_working_moment(moment)
        left = timedelta(hours=float(hours))
        while True:
            close = self.closing(m.date())
            if m + left <= close:
                return m + left
            left -= close - m
            m = self.opening(self.next_working_day(m.date()))

    def add(self, moment: datetime, duration: dict) -> datetime:
        """A rule's duration: {"business_days": n} | {"working_hours": h} | {"hours": h} | {"days": n}
        (the last two are calendar time, for "3 times a day" style repeats)."""
        if "business_days" in duration:
            return self.add_business_days(moment, int(duration["business_days"]))
        if "working_hours" in duration:
            return self.add_working_hours(moment, float(duration["working_hours"]))
        if "hours" in duration:
            return moment + timedelta(hours=float(duration["hours"]))
        if "days" in duration:
            return moment + timedelta(days=float(duration["days"]))
        raise CalendarError(f"unknown duration {duration!r}")
