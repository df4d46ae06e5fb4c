"""The visits plan of an employee for a report period. A month's plan is the person's row in
``reports_plans`` (set on the settings page or imported from CSV); a month without one falls back to the
visits settings' kv ``visits.plan`` {"<user id>": visits per month, "default": n} (what
visits.overview.stats compares a month against). A month gets its plan itself, a quarter the sum of its
three months, and a week or a custom range the share of each month it covers (days covered / days in
that month)."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from visits.rules import KV_PLAN

from . import plans as plan_rows


def monthly(plans: dict, user_id: int) -> float | None:
    """The same look-up as visits.overview.stats: the user's own number, else "default", else none."""
    target = plans.get(str(user_id), plans.get("default"))
    try:
        return float(target) if target not in (None, "") else None
    except (TypeError, ValueError):
        return None


def plans_of(kv, member_id: str) -> dict:
    value = kv.get(member_id, KV_PLAN) or {}
    return value if isinstance(value, dict) else {}


def months(first: date, last: date) -> list[tuple[str, int, int]]:
    """(YYYY-MM, days of the period in that month, days in that month) for each month the period touches."""
    out, day = [], first
    while day <= last:
        days_in = calendar.monthrange(day.year, day.month)[1]
        month_end = day.replace(day=days_in)
        out.append((f"{day.year:04d}-{day.month:02d}", (min(last, month_end) - day).days + 1, days_in))
        day = month_end + timedelta(days=1)
    return out


def for_period(per_month: float | None, first: date, last: date) -> float | None:
    """Sum over the months the period touches of plan × covered share; one decimal."""
    if per_month is None:
        return None
    return round(sum(per_month * covered / days_in for _, covered, days_in in months(first, last)), 1)


class Plans:
    """Every plan a report of [first, last] needs, read once: the table's rows and the kv fallback."""

    def __init__(self, store, member_id: str, first: date, last: date):
        self.first, self.last = first, last
        self.spans = months(first, last)
        self.kv = plans_of(store.kv, member_id)
        self.rows = {(r["user_id"], r["month"]): r["visits"]
                     for r in plan_rows.load(store.engine, member_id, self.spans[0][0], self.spans[-1][0])}

    def holders(self) -> set[int]:
        """People with a plan in the period: a row of one of its months or a number of their own in kv."""
        return {u for u, _ in self.rows} | {int(k) for k in self.kv if str(k).isdigit()}

    def month(self, user_id: int, month: str) -> float | None:
        if (user_id, month) in self.rows:
            return float(self.rows[(user_id, month)])
        return monthly(self.kv, user_id)

    def for_user(self, user_id: int) -> float | None:
        parts = [(self.month(user_id, m), covered, days_in) for m, covered, days_in in self.spans]
        if all(p is None for p, _, _ in parts):
            return None
        return round(sum((p or 0) * covered / days_in for p, covered, days_in in parts), 1)
