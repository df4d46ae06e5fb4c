"""The visits plan of an employee for a report period. The plan is the one visits/ keeps — kv
``visits.plan`` {"<user id>": visits per month, "default": n} (visits.overview.stats compares a month
against it) — so a month gets the plan itself, a quarter three months' worth, and a week or a custom
range the share of each month it covers (days covered / days in that month)."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from visits.rules import KV_PLAN


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


def for_period(per_month: float | None, first: date, last: date) -> float | None:
    """Sum over the months the period touches of plan × covered share; one decimal."""
    if per_month is None:
        return None
    total, day = 0.0, first
    while day <= last:
        days_in = calendar.monthrange(day.year, day.month)[1]
        month_end = day.replace(day=days_in)
        covered = (min(last, month_end) - day).days + 1
        total += per_month * covered / days_in
        day = month_end + timedelta(days=1)
    return round(total, 1)
