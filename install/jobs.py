"""Background work of the installer: upgrades.

Upgrades reach a portal two ways, both ending in the same install job ("app:INSTALL", run by the worker):
the portal's ONAPPUPDATE (bound online to /events by app.json) when a new version is published, and the
periodic ``install.upgrade`` check for portals whose recorded ``version`` is older than the manifest's —
a deployment of new code needs no action by the portal. The job re-plans against the portal, so it adds
what is new and updates titles and labels the manifest changed; a job already queued or running is not
queued twice.
"""
from __future__ import annotations

import logging

from b24app import install_flow

from .apply import recorded
from .manifest import load

log = logging.getLogger("b24app.install.jobs")


def needs_upgrade(store, member_id: str) -> bool:
    """A portal that was installed (it has a record) with an older manifest version than ours."""
    rec = recorded(store, member_id)
    return bool(rec) and int(rec.get("version") or 0) < load().version


def queue_upgrade(services, member_id: str, why: str) -> str | None:
    """Queue the install job unless one is queued or running; returns its id."""
    job = install_flow.retry_install(services, member_id)
    log.info("portal %s: upgrade (%s) → install job %s", member_id, why, job)
    return job


def on_app_update(services, member_id: str, payload: dict) -> None:
    """The portal installed a new version of the app (reference §1.4): bring app.json up to date. Only
    items the edge confirmed with the OAuth server (b24app/lifecycle.py) carry ``confirmed_version``."""
    if not payload.get("confirmed_version"):
        log.warning("portal %s: unconfirmed ONAPPUPDATE item ignored", member_id)
        return
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    queue_upgrade(services, member_id, f"ONAPPUPDATE {data.get('PREVIOUS_VERSION')} → {data.get('VERSION')}")


def check_version(services, member_id: str) -> str | None:
    """Recorded version < manifest version → queue the install job."""
    if not needs_upgrade(services.store, member_id):
        return None
    return queue_upgrade(services, member_id, f"recorded version {recorded(services.store, member_id).get('version')}"
                                              f" < {load().version}")

