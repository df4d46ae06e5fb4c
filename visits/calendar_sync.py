"""A planned visit appears in its manager's Bitrix24 calendar, and follows the visit: the date moves →
the event moves, the manager changes → the event moves to the new manager's calendar, the visit is
deleted → the event is removed. The link visit → event id lives in our table (visits_calendar), because
a calendar event has no field that points back at a smart-process item we could filter by.

Driven by ONCRMDYNAMICITEMADD/UPDATE/DELETE (visits/events.py) and called directly after our own
creations (visits/create.py) so the event exists before the worker catches up.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from b24app.errors import B24Error

from . import rules
from .ledger import VisitsLedger

log = logging.getLogger("b24app.visits.calendar")
DURATION = timedelta(hours=1)
NO_EVENT_STAGES = ("failed",)       # a visit that did not happen has no place in the calendar


def crm_code(entity_type_id: int, item_id: int) -> str:
    """The CRM binding of a smart-process item in UF_CRM_CAL_EVENT: ``T<hex entityTypeId>_<id>``."""
    return f"T{entity_type_id:x}_{item_id}"


def _when(item: dict, date_field: str, zone) -> datetime | None:
    return rules.parse_dt(item.get(date_field), zone)


def sync_item(services, member_id: str, v, item: dict | None, item_id: int) -> str:
    """Make the calendar agree with the visit; returns what was done (created|moved|removed|unchanged|none).
    ``item`` None means the visit is gone."""
    client = services.client(member_id)
    ledger = VisitsLedger(services.store.engine, member_id)
    link = ledger.event_of(item_id)
    zone = rules.settings_of(services.store.kv, member_id).zone
    stage_key = None
    if item is not None:
        stage_key = next((k for k, sid in v.stages.items() if sid == item.get("stageId")), None)
    when = _when(item, v.field("visit_date"), zone) if item is not None else None
    owner = int(item.get("assignedById") or 0) if item is not None else 0
    wanted = item is not None and when is not None and owner and stage_key not in NO_EVENT_STAGES

    if not wanted:
        if link is None:
            return "none"
        _delete(client, link["event_id"])
        ledger.unlink_event(item_id)
        return "removed"
    start = when.isoformat(timespec="seconds")
    end = (when + DURATION).isoformat(timespec="seconds")
    title = str(item.get("title") or f"Visit {item_id}")
    if link is not None and int(link.get("owner_id") or 0) == owner:
        if link.get("date_from") == start:
            return "unchanged"
        try:
            client.call("calendar.event.update", {"id": link["event_id"], "type": "user", "ownerId": owner,
                                                  "from": start, "to": end, "name": title})
            ledger.link_event(item_id, link["event_id"], owner, start)
            return "moved"
        except B24Error as exc:      # the event was deleted in the calendar: make a new one
            log.info("visit %s: event %s not updatable (%s); re-creating", item_id, link["event_id"], exc.code)
    elif link is not None:
        _delete(client, link["event_id"])
    res = client.batch({
        "sec": ("calendar.section.get", {"type": "user", "ownerId": owner}),
        "event": ("calendar.event.add", {
            "type": "user", "ownerId": owner, "section": "$result[sec][0][ID]", "name": title,
            "description": str(item.get(v.field("purpose")) or ""), "from": start, "to": end,
            "accessibility": "busy", "crm_fields": [crm_code(v.entity_type_id, item_id)]}),
    }, halt=True)
    if res.errors:
        raise next(iter(res.errors.values()))
    ledger.link_event(item_id, int(res.result["event"]), owner, start)
    return "created" if link is None else "moved"


def _delete(client, event_id: int) -> None:
    try:
        client.call("calendar.event.delete", {"id": int(event_id)})
    except B24Error as exc:      # already gone in the calendar — nothing left to remove
        log.info("calendar event %s not deleted: %s", event_id, exc.code)


def sync_by_id(services, member_id: str, v, item_id: int) -> str:
    """Read the visit (gone → None) and sync its event."""
    try:
        item = services.client(member_id).call("crm.item.get", {"entityTypeId": v.entity_type_id,
                                                               "id": int(item_id)})["item"]
    except B24Error as exc:
        if exc.code != "NOT_FOUND":
            raise
        item = None
    return sync_item(services, member_id, v, item, int(item_id))
