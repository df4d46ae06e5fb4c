"""How much warranty an Equipment item has left: days to the warranty end date (counted in the portal's
time zone) and hours left = warranty hours − hours used. Pure: the caller gives "today"."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date


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
