"""Uninstall: take our bindings (placements, event handlers, robots) out of the portal, and forget what we
recorded — all of it with CLEAN.

Two moments, two functions. ``remove_bindings`` runs while we still have tokens (an admin detaching the
app, a test, the CLI): it unbinds what the installer recorded except the lifecycle events
(ONAPPUNINSTALL, ONAPPUPDATE) — a later uninstall, CLEAN or not, must still be heard. ``on_uninstalled`` runs for
ONAPPUNINSTALL, when the portal has already dropped the app's bindings and revoked our tokens (reference
§1.4), so it only updates our record. Smart processes, pipelines and fields stay in the portal either
way: they hold the customer's data, and a re-install adopts them by their recorded ids or our codes.
"""
from __future__ import annotations

import logging

from b24app.install_flow import LIFECYCLE_EVENTS

from .apply import KV_KEY
from .plan import unbind_params

log = logging.getLogger("b24app.install.uninstall")
BINDINGS = ("placements", "events", "robots")
KEPT_EVENTS = frozenset({*LIFECYCLE_EVENTS, "ONAPPUPDATE"})    # stay bound after remove_bindings


def unbind_calls(rec: dict) -> list[tuple[str, dict]]:
    calls = [("placement.unbind", {"PLACEMENT": p["placement"], "HANDLER": p["handler"]})
             for p in rec.get("placements", [])]
    calls += [("event.unbind", unbind_params(e["event"], e["handler"])) for e in rec.get("events", [])
              if e["event"] not in KEPT_EVENTS]
    calls += [("bizproc.robot.delete", {"CODE": code}) for code in rec.get("robots", {})]
    return calls


def remove_bindings(services, member_id: str) -> list[str]:
    """Unbind what we bound; returns errors other than "already gone". Our record drops the bindings."""
    kv = services.store.kv
    rec = kv.get(member_id, KV_KEY) or {}
    errors = []
    calls = unbind_calls(rec)
    if calls:
        for (method, params), r in zip(calls, services.client(member_id).batch_many(calls)):
            if not r.ok and "not found" not in f"{r.error.code} {r.error.description}".lower():
                errors.append(f"{method} {params}: {r.error.code} {r.error.description}")
    on_uninstalled(services.store, member_id, clean=False)
    return errors


def on_uninstalled(store, member_id: str, clean: bool) -> None:
    """ONAPPUNINSTALL: the portal removed our bindings; with CLEAN forget the portal entirely
    (``portals.forget`` deletes every row of it, kv included)."""
    if clean:
        store.portals.forget(member_id)
        log.info("portal %s: CLEAN uninstall, installed ids forgotten", member_id)
        return
    rec = store.kv.get(member_id, KV_KEY)
    if rec:
        kept = [e for e in rec.get("events", []) if e["event"] in KEPT_EVENTS]
        rec = {**rec, "placements": [], "events": kept, "robots": {}, "complete": False}
        store.kv.set(member_id, KV_KEY, rec)
