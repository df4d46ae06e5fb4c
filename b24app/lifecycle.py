"""Lifecycle events proved, not believed (issue 11).

``auth[application_token]`` is posted into every user's frame (reference §1.3), so every employee of a
portal has it: it proves an event is *about* this portal, not that the portal sent it. The two events
that change the app itself are therefore checked with a party the employee cannot impersonate:

* **ONAPPUNINSTALL** — a real uninstall revokes the app's tokens before the event is sent (§1.4). We ask
  the portal, at the *stored* ``client_endpoint`` with our *stored* token (one refresh on
  ``expired_token``, through the normal TokenManager), whether our access still works: it does → the
  event is forged, nothing changes; ``invalid_token`` / ``APPLICATION_NOT_FOUND`` / ``invalid_grant`` →
  genuine, uninstall as before; no answer → nothing is deleted now, an inbox item re-checks later, so a
  genuine uninstall during an outage is still acted on.
* **ONAPPUPDATE** — acted on only when the OAuth server's ``app.info`` confirms the posted token belongs to
  our client_id and this portal, and at most once per version (the version ``app.info`` names; the last
  one acted on — or installed — is kept in kv ``install.app_version``). An employee's own genuine token
  names the version already installed, so it queues nothing either.
"""
from __future__ import annotations

import logging
import time

from . import install_flow
from .app_version import VERSION_KEY, installed_version, newer, record_version  # noqa: F401 - lifecycle's words
from .errors import B24Error, NeedsReinstall, OAuthError, PortalNotInstalled
from .inbox import without_tokens
from .portal import PortalClient
from .store.interface import UNINSTALLED

log = logging.getLogger("b24app.lifecycle")

REVOKED, ALIVE, UNKNOWN = "revoked", "alive", "unknown"
REVOKED_CODES = {"invalid_token", "application_not_found"}
RECHECK_KIND, RECHECK_NAME = "lifecycle", "UNINSTALL_CHECK"
RECHECK_DAYS = 7                     # an unreachable portal is re-asked this long, then left installed


class StillUnknown(Exception):
    """The portal did not answer the uninstall check; the inbox asks again later."""


# --- ONAPPUNINSTALL -------------------------------------------------------------------------------------
def token_state(services, member_id: str) -> str:
    """REVOKED, ALIVE or UNKNOWN: our stored access, asked with ``app.info`` at the stored endpoint.
    One attempt (this runs inside the portal's event POST); an expired token is refreshed once."""
    options = {**getattr(services, "client_options", {}), "max_tries": 1, "timeout": 15.0}
    client = PortalClient(member_id, services.store, services.tokens, services.throttle, services.settings,
                          **options)
    try:
        client.call("app.info")
    except NeedsReinstall:                     # the refresh token was refused (invalid_grant)
        return REVOKED
    except B24Error as exc:
        if exc.code.lower() in REVOKED_CODES:
            return REVOKED
        log.warning("portal %s: uninstall check got %s (HTTP %s); not proven", member_id, exc.code, exc.status)
        return UNKNOWN
    except OAuthError as exc:                  # the refresh itself failed without invalid_grant
        log.warning("portal %s: uninstall check: token refresh failed (%s); not proven", member_id, exc.code)
        return UNKNOWN
    return ALIVE


def on_uninstall(services, member_id: str, clean: bool) -> str:
    """What an ONAPPUNINSTALL (already matched to the portal by application_token) leads to:
    "uninstalled", "ignored" (forged, or already uninstalled) or "queued" (re-checked later)."""
    portal = services.store.portals.get(member_id)
    if portal is None or portal.status == UNINSTALLED:
        log.info("portal %s: ONAPPUNINSTALL for a portal already uninstalled; nothing to do", member_id)
        return "ignored"
    try:
        state = token_state(services, member_id)
    except PortalNotInstalled:
        return "ignored"
    return _act(services, member_id, clean, state, queue=True)


def _act(services, member_id: str, clean: bool, state: str, queue: bool) -> str:
    if state == REVOKED:
        install_flow.uninstall(services, member_id, clean=clean)
        return "uninstalled"
    if state == ALIVE:
        log.warning("portal %s: ONAPPUNINSTALL (CLEAN=%d) ignored: the app's access token still works, so the "
                    "portal did not send it (forged with the frame's APPLICATION_TOKEN?)", member_id, int(clean))
        return "ignored"
    if queue:
        queue_recheck(services, member_id, clean)
    return "queued"


def queue_recheck(services, member_id: str, clean: bool, since: float | None = None) -> bool:
    """An inbox item that asks the portal again; one pending per portal and CLEAN flag."""
    since = time.time() if since is None else since
    log.warning("portal %s: ONAPPUNINSTALL could not be checked (portal unreachable); re-check queued", member_id)
    return services.store.inbox.put(member_id, RECHECK_KIND, RECHECK_NAME, {"clean": bool(clean), "since": since},
                                    f"uninstall-check:{member_id}:{int(bool(clean))}", while_pending=True)


def run_recheck(services, member_id: str, payload: dict) -> None:
    """The worker's side of ``queue_recheck``: raises StillUnknown so the inbox retries with backoff."""
    portal = services.store.portals.get(member_id)
    if portal is None or portal.status == UNINSTALLED:
        return
    clean, since = bool(payload.get("clean")), float(payload.get("since") or time.time())
    try:
        state = token_state(services, member_id)
    except PortalNotInstalled:
        return
    if state == UNKNOWN:
        if time.time() - since > RECHECK_DAYS * 86400:
            log.error("portal %s: ONAPPUNINSTALL unproven after %d days of an unreachable portal; left installed",
                      member_id, RECHECK_DAYS)
            return
        raise StillUnknown(f"portal {member_id} did not answer the uninstall check")
    _act(services, member_id, clean, state, queue=False)


def recheck_gave_up(services, member_id: str, payload: dict, error: str) -> None:
    """The inbox stopped retrying: queue a fresh check (until RECHECK_DAYS), so nothing is lost."""
    services.store.inbox.put(member_id, RECHECK_KIND, RECHECK_NAME, dict(payload),
                             f"uninstall-check:{member_id}:{int(bool(payload.get('clean')))}:{time.time()}")


# --- ONAPPUPDATE ----------------------------------------------------------------------------------------
def accept_update(services, member_id: str, form: dict) -> bool:
    """Queue a confirmed ONAPPUPDATE for the worker (install/jobs.py); False = ignored (logged)."""
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    access = str(auth.get("access_token") or "")
    if not access:
        log.warning("portal %s: ONAPPUPDATE without a token ignored", member_id)
        return False
    try:
        info = services.oauth.app_info(access)
    except OAuthError as exc:
        log.warning("portal %s: ONAPPUPDATE ignored: the OAuth server did not confirm its token (%s)",
                    member_id, exc.code)
        return False
    install = info.get("install") if isinstance(info, dict) else None
    if not isinstance(install, dict) or str(info.get("client_id") or "") != services.settings.client_id \
            or str(install.get("member_id") or "") != member_id:
        log.warning("portal %s: ONAPPUPDATE ignored: its token belongs to another app or portal", member_id)
        return False
    data = form.get("data") if isinstance(form.get("data"), dict) else {}
    version = installed_version(info)           # the OAuth server's word; data[VERSION] is only posted text
    if version is None:
        log.warning("portal %s: ONAPPUPDATE ignored: app.info names no version (the periodic upgrade check "
                    "still runs)", member_id)
        return False
    if str(data.get("VERSION") or version) != version:
        log.info("portal %s: ONAPPUPDATE posts VERSION %s, app.info says %s; using app.info's", member_id,
                 str(data.get("VERSION"))[:20], version)
    last = services.store.kv.get(member_id, VERSION_KEY)
    if not newer(version, last):
        log.info("portal %s: ONAPPUPDATE to version %s ignored: version %s already acted on", member_id,
                 version, last)
        return False
    fresh = services.store.inbox.put(member_id, "event", "ONAPPUPDATE",
                                     {**without_tokens(form), "confirmed_version": version},
                                     f"app-update:{member_id}:{version}")
    services.store.kv.set(member_id, VERSION_KEY, version)
    log.info("portal %s: ONAPPUPDATE to version %s confirmed%s", member_id, version, "" if fresh else " (duplicate)")
    return fresh

