"""How the sync is started: the periodic job per portal, the 1C push (through the inbox), the robot.

Why the push goes through the inbox: the 1C HTTP service must get its answer at once, and a pull can
take a while or fail (1C or the portal down); the inbox gives us dedup (idempotent pushes), retries with
backoff and a single place where work runs (the worker).
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from b24app.inbox import EVENT_HANDLERS
from b24app.scheduler import periodic

from . import connection, sync

log = logging.getLogger("b24app.sync_1c.jobs")
PUSH_KIND, PUSH_NAME = "sync_1c", "push"


@periodic("sync_1c.pull", seconds=600, setting_key=connection.INTERVAL_KEY)
def pull(services, member_id: str) -> None:
    try:
        sync.run(services, member_id)
    except connection.NotConfigured:
        log.debug("portal %s has no 1C connection; sync skipped", member_id)


def accept_push(store, member_id: str, body: dict) -> bool:
    """Queue a targeted pull; False = the same push was already queued (1C retries are harmless).
    The dedup key is the push's own id when 1C sends one, else the canonical body."""
    refs = [str(r).strip().lower() for r in (body.get("refs") or body.get("ref_keys") or []) if str(r).strip()]
    since = body.get("changed_since") or body.get("since")
    if since:
        datetime.fromisoformat(str(since).replace("Z", "+00:00"))          # ValueError → 400 at the edge
    if not refs and not since:
        raise ValueError("the body needs 'refs' (a list of Ref_Keys) or 'changed_since' (ISO time)")
    payload = {"refs": sorted(set(refs)) or None, "changed_since": since}
    ident = body.get("id") or json.dumps(payload, sort_keys=True)
    key = "push:" + hashlib.sha256(f"{member_id}\x1f{ident}".encode()).hexdigest()
    return store.inbox.put(member_id, PUSH_KIND, PUSH_NAME, payload, key)


def run_push(services, member_id: str, payload: dict) -> None:
    since = payload.get("changed_since")
    when = datetime.fromisoformat(str(since).replace("Z", "+00:00")) if since else None
    if when is not None and when.tzinfo is None:
        from .payments import local_to_utc

        when = local_to_utc(when, connection.load(services.store.kv, member_id).tz)
    sync.run(services, member_id, refs=payload.get("refs"), since=when)


def register(handlers: dict | None = None) -> dict:
    handlers = EVENT_HANDLERS if handlers is None else handlers
    handlers[f"{PUSH_KIND}:{PUSH_NAME}"] = run_push
    from .gate import on_deal_update

    _chain(handlers, "ONCRMDEALUPDATE", on_deal_update)
    return handlers


def _chain(handlers: dict, name: str, fn) -> None:
    """The inbox keeps one handler per event name; other domains (maps) listen to deal updates too. Same
    convention as maps.geocoding.chain (a ``chained`` tuple), so whichever registers first, all run."""
    prev = handlers.get(name)
    if prev is None:
        handlers[name] = fn
        return
    members = getattr(prev, "chained", (prev,))
    if fn in members:
        return

    def both(services, member_id, payload):
        error = None
        for h in both.chained:
            try:
                h(services, member_id, payload)
            except Exception as exc:  # noqa: BLE001 - re-raised after the others ran
                error = error or exc
        if error is not None:
            raise error

    both.chained = members + (fn,)
    handlers[name] = both
