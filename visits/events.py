"""Inbox handlers for the Visit smart process's own events (ONCRMDYNAMICITEM*, filtered by the portal's
Visit entityTypeId): remember that a visit was touched (the sweep must not overwrite a human change made
after it read the item) and mark it for the calendar job (visits/calendar_sync.drain). No API call here:
one sweep can move thousands of visits, and each move comes back as an event.

The event's ``ts`` is the portal's clock, the same clock the sweep's read time is on, so "touched after
the read" compares like with like — and our own writes of an earlier sweep are older than the next read.
"""
from __future__ import annotations

import time
from datetime import datetime

from install.registry import NotInstalled, installed_ids

from .ledger import VisitsLedger


def _visit(services, member_id: str, payload: dict):
    fields = ((payload.get("data") or {}).get("FIELDS") or {})
    try:
        v = installed_ids(services.store, member_id).smart_process("visit")
    except NotInstalled:
        return None, None
    if str(fields.get("ENTITY_TYPE_ID") or "") != str(v.entity_type_id) or not str(fields.get("ID") or "").isdigit():
        return None, None
    return v, int(fields["ID"])


def _ts(payload: dict) -> float:
    """Online events carry unix seconds, offline ones (event.offline.get) TIMESTAMP_X as ISO time."""
    raw = payload.get("ts")
    try:
        return float(raw)
    except (TypeError, ValueError):
        pass
    try:
        return datetime.fromisoformat(str(raw)).timestamp()
    except ValueError:
        return time.time()


def on_item_change(services, member_id: str, payload: dict) -> None:
    v, item_id = _visit(services, member_id, payload)
    if v is None:
        return
    ledger = VisitsLedger(services.store.engine, member_id)
    if str(payload.get("event") or "").upper().startswith("ONCRMDYNAMICITEMUPDATE"):
        ledger.touch(item_id, _ts(payload))
    ledger.mark_dirty(item_id)          # the calendar job reads marked visits in batches


def on_item_delete(services, member_id: str, payload: dict) -> None:
    v, item_id = _visit(services, member_id, payload)
    if v is None:
        return
    VisitsLedger(services.store.engine, member_id).mark_dirty(item_id, deleted=True)
