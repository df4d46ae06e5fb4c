"""How much warranty an Equipment item has left: days to the warranty end date (counted in the portal's
time zone) and hours left = warranty hours − hours used. Pure: the caller gives "today"."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from .strings import day_text


@dataclass(frozen=True)
class WarrantyLeft:
    days_left: int | None          # None: no end date recorded
    hours_left: float | None       # None: no warranty hours recorded
    on_warranty: bool | None       # None: nothing recorded to decide by

    def as_dict(self) -> dict:
        return asdict(self)


def parse_date(value) -> date | None:
    """A crm.item date field: ``2026-05-01`` or ``2026-05-01T00:00:00+03:00`` (the date part is the
    portal's own calendar day)."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _number(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def warranty_left(warranty_end, warranty_hours, hours_used, today: date) -> WarrantyLeft:
    """Still under warranty while the end date is today or later AND (if hours are tracked) hours remain."""
    end = parse_date(warranty_end)
    days = (end - today).days if end else None
    limit = _number(warranty_hours)
    hours = None if limit is None else round(limit - (_number(hours_used) or 0.0), 2)
    if days is None and hours is None:
        return WarrantyLeft(None, None, None)
    on = (days is None or days >= 0) and (hours is None or hours > 0)
    return WarrantyLeft(days, hours, on)


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def describe(left: WarrantyLeft, warranty_end, lang: str | None) -> dict:
    """How the screen says it, and which limit decides: ``expired 23 Jan 2025`` / ``200 h over`` when off
    warranty (the limit that ran out decides; both ran out — the hours if they did, they are counted in the
    field, the date is a fallback), ``until 15 Apr 2026 · 749.5 h left`` while both remain."""
    en = str(lang or "").lower().startswith("en")
    end = parse_date(warranty_end)
    hours_out = left.hours_left is not None and left.hours_left <= 0
    date_out = left.days_left is not None and left.days_left < 0
    if left.on_warranty is None:
        return {"warranty_text": "no warranty recorded" if en else "гарантия не указана", "decided_by": None}
    if hours_out:
        over = -left.hours_left
        text = ("hours used up" if en else "моточасы выработаны") if over == 0 else \
            (f"{_n(over)} h over" if en else f"перерасход {_n(over)} ч")
        return {"warranty_text": text, "decided_by": "hours"}
    if date_out:
        return {"warranty_text": (f"expired {day_text('en', end)}" if en else f"истекла {day_text('ru', end)}"),
                "decided_by": "date"}
    parts = []
    if end is not None:
        parts.append(f"until {day_text('en', end)}" if en else f"до {day_text('ru', end)}")
    if left.hours_left is not None:
        parts.append(f"{_n(left.hours_left)} h left" if en else f"осталось {_n(left.hours_left)} ч")
    return {"warranty_text": " · ".join(parts), "decided_by": None}
