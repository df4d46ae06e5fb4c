"""Calendar → visit: a manager who drags the visit's event in his Bitrix24 calendar has moved the visit.

ONCALENDARENTRYUPDATE carries only ``{id}`` (docs api-reference/calendar/calendar-event/events/
on-calendar-entry-update.md), so the event is read with ``calendar.event.getbyid``; only events we created
for a visit (visits_calendar) are looked at. The visit's date is written when the event's start differs from
what we last wrote, and the link is updated first, so the item update coming back as ONCRMDYNAMICITEMUPDATE
finds the calendar in step (the drain does nothing) — no ping-pong. Our own ``calendar.event.update`` comes
back as this event too and ends here without a write (same start).

A deleted event asks nothing of anyone: the visit is left as it is, the deletion is logged and the link
dropped (the next change of the visit adds a new event, instead of updating one that is gone).
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from b24app.errors import B24Error
from install.registry import NotInstalled, installed_ids

from . import rules
from .ledger import VisitsLedger

log = logging.getLogger("b24app.visits.calendar_back")


def _event_id(payload: dict) -> int | None:
    data = payload.get("data") or {}
    raw = data.get("id") if isinstance(data, dict) else None
    return int(raw) if str(raw or "").isdigit() else None


def event_start(ev: dict, zone) -> datetime | None:
    """The event's start as an aware time in the portal's zone (DATE_FROM_TS_UTC; else DATE_FROM + TZ_FROM)."""
    ts = str(ev.get("DATE_FROM_TS_UTC") or "")
    if ts.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(ts), zone)
    raw = str(ev.get("DATE_FROM") or "")
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        try:
            d = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        try:
            return d.replace(tzinfo=ZoneInfo(str(ev.get("TZ_FROM") or ""))).astimezone(zone)
        except (KeyError, ValueError):
            return d.replace(tzinfo=zone)
    return None


def on_entry_update(services, member_id: str, payload: dict) -> str:
    """Returns what was done (``not_ours`` | ``gone`` | ``unchanged`` | ``moved``) — for logs and tests."""
    event_id = _event_id(payload)
    if event_id is None:
        return "not_ours"
    ledger = VisitsLedger(services.store.engine, member_id)
    link = ledger.visit_of_event(event_id)
    if link is None:
        return "not_ours"
    try:
        v = installed_ids(services.store, member_id).smart_process("visit")
    except NotInstalled:
        return "not_ours"
    zone = rules.settings_of(services.store.kv, member_id).zone
    client = services.client(member_id)
    try:
        ev = client.call("calendar.event.getbyid", {"id": event_id})
    except B24Error as exc:
        log.info("visit %s: calendar event %s cannot be read (%s): left as it is", link["item_id"], event_id, exc)
        return "gone"
    start = event_start(ev or {}, zone)
    if start is None:
        return "unchanged"
    known = rules.parse_dt(link.get("date_from"), zone)
    if known is not None and known == start:
        return "unchanged"
    item_id = int(link["item_id"])
    field = v.field("visit_date")
    res = client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": item_id,
                                          "fields": {field: start.isoformat(timespec="seconds")}})
    written = rules.parse_dt(((res or {}).get("item") or {}).get(field), zone) or start
    ledger.link_event(item_id, event_id, link.get("owner_id"), written.isoformat(timespec="seconds"),
                      link.get("content"))
    log.info("visit %s moved to %s from its calendar event %s", item_id, written.isoformat(), event_id)
    return "moved"


def on_entry_delete(services, member_id: str, payload: dict) -> str:
    event_id = _event_id(payload)
    if event_id is None:
        return "not_ours"
    ledger = VisitsLedger(services.store.engine, member_id)
    link = ledger.visit_of_event(event_id)
    if link is None:
        return "not_ours"
    ledger.unlink_event(int(link["item_id"]))
    log.info("visit %s: its calendar event %s was deleted in the calendar; the visit is left as it is",
             link["item_id"], event_id)
    return "unlinked"
