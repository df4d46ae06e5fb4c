"""How the sync is started: the periodic job per portal, the 1C push (through the inbox), the robot.

Why the push goes through the inbox: the 1C HTTP service must get its answer at once, and a pull can
take a while or fail (1C or the portal down); the inbox gives us dedup (idempotent pushes), retries with
backoff and a single place where work runs (the worker).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime

from . import connection, sync
from .payments import local_to_utc

log = logging.getLogger("b24app.sync_1c.jobs")
PUSH_KIND, PUSH_NAME = "sync_1c", "push"


def pull(services, member_id: str) -> None:
    try:
        sync.run(services, member_id)
    except connection.NotConfigured:
        log.debug("portal %s has no 1C connection; sync skipped", member_id)


PENDING_PREFIX = "sync_1c.push_pending:"     # kv, one key per identical push body: queued, not yet pulled
PENDING_TTL = 3600.0                         # a marker older than this is ignored (a lost worker never blocks)


def _refs_of(body: dict) -> tuple[list[str], list[str]]:
    """Ref_Keys and the DataVersions 1C sent with them. Accepted shapes: {"refs": ["…"]}, {"refs":
    [{"Ref_Key": "…", "DataVersion": "…"}]} (the push contract of 1c-odata.md §2), or one such object."""
    items = body.get("refs") or body.get("ref_keys") or body.get("items")
    if items is None and body.get("Ref_Key"):
        items = [body]
    refs, versions = [], []
    for item in items or []:
        if isinstance(item, dict):
            ref, version = item.get("Ref_Key") or item.get("ref"), item.get("DataVersion")
        else:
            ref, version = item, None
        ref = str(ref or "").strip().lower()
        if ref:
            refs.append(ref)
            if version:
                versions.append(f"{ref}={version}")
    return refs, versions


def accept_push(store, member_id: str, body: dict, *, now: float | None = None) -> bool:
    """Queue a targeted pull; False = the same push is already queued (1C retries are harmless).

    Dedup, so that a document that changes again is pulled again (a push is a *notification*, not a
    fact that stays true):
    * `id` in the body = a message id chosen by 1C: a re-send of that id is a duplicate (the inbox's
      dedup key), so 1C must use a new id for every new notification;
    * `DataVersion` per ref: it changes on every write in 1C, so it is part of the key;
    * neither: an identical body is a duplicate only while the previous one is still waiting to be
      pulled (a kv marker the pull removes *before* it reads 1C) — after that, the same body is queued
      again. An immediate re-send stays idempotent; a later one is a new notification."""
    refs, versions = _refs_of(body)
    since = body.get("changed_since") or body.get("since")
    if since:
        datetime.fromisoformat(str(since).replace("Z", "+00:00"))          # ValueError → 400 at the edge
    if not refs and not since:
        raise ValueError("the body needs 'refs' (a list of Ref_Keys) or 'changed_since' (ISO time)")
    payload = {"refs": sorted(set(refs)) or None, "changed_since": since}
    if body.get("id"):
        ident = f"id:{body['id']}"
    else:
        canonical = json.dumps({**payload, "versions": sorted(set(versions)) or None}, sort_keys=True)
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        marker = PENDING_PREFIX + digest
        now = time.time() if now is None else now
        held = store.kv.get(member_id, marker)
        if held and now - float(held) < PENDING_TTL:
            return False
        store.kv.set(member_id, marker, now)
        payload["pending_marker"] = marker
        ident = f"body:{digest}:{now!r}"
    key = "push:" + hashlib.sha256(f"{member_id}\x1f{ident}".encode()).hexdigest()
    return store.inbox.put(member_id, PUSH_KIND, PUSH_NAME, payload, key)


def run_push(services, member_id: str, payload: dict) -> None:
    marker = payload.get("pending_marker")
    if marker:                      # from now on an identical push is a new notification: queue it
        services.store.kv.delete(member_id, marker)
    since = payload.get("changed_since")
    when = datetime.fromisoformat(str(since).replace("Z", "+00:00")) if since else None
    if when is not None and when.tzinfo is None:
        when = local_to_utc(when, connection.load(services.store.kv, member_id).tz)
    sync.run(services, member_id, refs=payload.get("refs"), since=when)

