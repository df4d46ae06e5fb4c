"""The report period: week | month | quarter of the portal's today, or a custom [from, to] (both days
included), in the portal's time zone — so "this month" on a Vladivostok portal starts at its midnight."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from b24app.errors import said

KINDS = ("week", "month", "quarter", "custom")
MAX_DAYS = 366


class ReportError(ValueError):
    """Bad report input (period, dates, filters); the text names the parameter."""


@dataclass(frozen=True)
class Period:
    kind: str
    first: date           # first day, included
    last: date            # last day, included

    def bounds(self, zone) -> tuple[datetime, datetime]:
        """[local midnight of ``first``, local midnight after ``last``) — the visit date filter."""
        return (datetime.combine(self.first, time(0), tzinfo=zone),
                datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def public(self) -> dict:
        return {"kind": self.kind, "from": self.first.isoformat(), "to": self.last.isoformat()}


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ReportError(said(f"{name}: a date YYYY-MM-DD is expected, got {value!r}",
                               f"{name}: нужна дата в виде ГГГГ-ММ-ДД, а не {value!r}")) from None


def parse(kind: str | None, day_from: str | None, day_to: str | None, zone, today: date | None = None) -> Period:
    """``from``/``to`` given → custom; else ``kind`` (default month) around the portal's today."""
    today = today or datetime.now(zone).date()
    kind = (kind or "").strip() or ("custom" if day_from or day_to else "month")
    if kind not in KINDS:
        raise ReportError(said(f"period: one of {', '.join(KINDS)} is expected, got {kind!r}",
                               f"period: нужен один из {', '.join(KINDS)}, а не {kind!r}"))
    if kind == "custom":
        if not day_from or not day_to:
            raise ReportError(said("from and to are both required for a custom period",
                                   "для своего периода нужны обе даты: from и to"))
        first, last = _day("from", day_from), _day("to", day_to)
        if first > last:
            raise ReportError(said(f"from {first} is after to {last}", f"начало {first} позже конца {last}"))
        if (last - first).days + 1 > MAX_DAYS:
            days = (last - first).days + 1
            raise ReportError(said(f"a period of at most {MAX_DAYS} days is expected, got {days}",
                                   f"период — не больше {MAX_DAYS} дней, а не {days}"))
        return Period("custom", first, last)
    if kind == "week":
        first = today - timedelta(days=today.weekday())
        return Period(kind, first, first + timedelta(days=6))
    if kind == "month":
        first = today.replace(day=1)
    else:
        first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    months = 1 if kind == "month" else 3
    y, m = divmod(first.month - 1 + months, 12)
    return Period(kind, first, date(first.year + y, m + 1, 1) - timedelta(days=1))
