"""Install and uninstall as a domain service (no Flask): the same code runs for the installer frame POST,
the ONAPPINSTALL event, the CLI and tests.

Nothing posted is trusted until the OAuth server confirms it (reference §1.2, §1.5): ``app.info`` on
*our configured* OAuth server with the posted token tells which app, which portal and which REST base
the token really belongs to. Only then is the portal stored — with ``install.client_endpoint`` as its
REST base, never the posted ``DOMAIN`` (a forged DOMAIN would otherwise receive our tokens). The
installing user must be a portal admin, so an ordinary employee's frame token cannot re-install the
app with an application_token of their choosing.
"""
from __future__ import annotations

import inspect
import logging
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import requests

from .app_version import record_version
from .errors import B24Error, InstallError, InstallNotConfirmed, InstallRefused, InstallRequestInvalid, OAuthError
from .i18n import lang_of
from .inbox import detect_offline_mode
from .logsafe import error_record, public_message
from .registry import enabled
from .store.interface import INSTALLED, UNINSTALLED, Portal
from .verify import normalize_domain

log = logging.getLogger("b24app.install")

LIFECYCLE_EVENTS = ("ONAPPUNINSTALL",)


@dataclass
class InstallResult:
    portal: Portal
    lang: str
    warnings: list[str] = field(default_factory=list)
    job: str | None = None          # the queued app.json install (progress: progress_of / GET /install/status)


def _fail(kind: type[InstallError], error: str, description: str, member_id: str = "") -> InstallError:
    log.warning("install rejected: %s %s: %s (member_id=%s)", kind.__name__, error, description, member_id or "-")
    return kind(description, error)


def install_from_frame(services, form: dict, query: dict) -> InstallResult:
    """The installer page POST (UI app, reference §1.1 scenario 1): tokens of the admin opening it."""
    need = [k for k in ("AUTH_ID", "REFRESH_ID", "member_id", "APPLICATION_TOKEN") if not form.get(k)]
    if need:
        raise _fail(InstallRequestInvalid, "INVALID_REQUEST", "missing " + ", ".join(need),
                    str(form.get("member_id") or ""))
    if str(query.get("PROTOCOL", "1")) == "0" and not services.settings.allow_http_portals:
        raise _fail(InstallRefused, "HTTP_PORTAL_NOT_ALLOWED", "the portal uses http (PROTOCOL=0)",
                    str(form["member_id"]))
    return _confirm_and_store(services, access=str(form["AUTH_ID"]), refresh=str(form["REFRESH_ID"]),
                              expires_in=form.get("AUTH_EXPIRES"), application_token=str(form["APPLICATION_TOKEN"]),
                              member_id=str(form["member_id"]), lang=query.get("LANG"),
                              posted_domain=query.get("DOMAIN"))


def install_from_event(services, form: dict) -> InstallResult:
    """ONAPPINSTALL (API-only app, scenario 2): the same confirmation, tokens from ``auth[...]``."""
    if str(form.get("event") or "").upper() != "ONAPPINSTALL":
        raise _fail(InstallRequestInvalid, "INVALID_REQUEST", "expected the ONAPPINSTALL event")
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    need = [f"auth[{k}]" for k in ("access_token", "refresh_token", "member_id", "application_token")
            if not auth.get(k)]
    if need:
        raise _fail(InstallRequestInvalid, "INVALID_REQUEST", "missing " + ", ".join(need),
                    str(auth.get("member_id") or ""))
    data = form.get("data") if isinstance(form.get("data"), dict) else {}
    return _confirm_and_store(services, access=str(auth["access_token"]), refresh=str(auth["refresh_token"]),
                              expires_in=auth.get("expires_in"), application_token=str(auth["application_token"]),
                              member_id=str(auth["member_id"]), lang=data.get("LANGUAGE_ID"),
                              posted_domain=auth.get("domain"))


def _confirm(services, access: str, member_id: str) -> dict:
    """app.info at our OAuth server → the install block, checked against what was posted."""
    settings = services.settings
    try:
        info = services.oauth.app_info(access)
    except OAuthError as exc:
        raise _fail(InstallNotConfirmed, "INVALID_AUTH", f"the OAuth server did not confirm the token ({exc.code})",
                    member_id) from exc
    install = info.get("install") if isinstance(info, dict) else None
    if not isinstance(install, dict):
        raise _fail(InstallNotConfirmed, "INVALID_AUTH", "app.info answered without an install block", member_id)
    if str(info.get("client_id") or "") != settings.client_id:
        raise _fail(InstallRefused, "WRONG_CLIENT", "the token belongs to another application", member_id)
    if str(install.get("member_id") or "") != member_id:
        raise _fail(InstallRefused, "WRONG_PORTAL", "the token belongs to another portal", member_id)
    endpoint = str(install.get("client_endpoint") or "")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise _fail(InstallRefused, "WRONG_ENDPOINT", "app.info gave no usable client_endpoint", member_id)
    if parts.scheme == "http" and not settings.allow_http_portals:
        raise _fail(InstallRefused, "HTTP_PORTAL_NOT_ALLOWED", "the portal's REST endpoint is http", member_id)
    return info


def _is_admin(endpoint: str, access: str) -> bool:
    """``user.admin`` with the installing user's token, at the confirmed endpoint only."""
    try:
        r = requests.post(endpoint.rstrip("/") + "/user.admin.json", data={"auth": access}, timeout=15,
                          allow_redirects=False)
        return r.status_code == 200 and r.json().get("result") is True
    except (requests.RequestException, ValueError):
        return False


def _confirm_and_store(services, access, refresh, expires_in, application_token, member_id, lang,
                       posted_domain=None) -> InstallResult:
    info = _confirm(services, access, member_id)
    install = info["install"]
    endpoint = str(install["client_endpoint"])
    if not endpoint.endswith("/"):
        endpoint += "/"
    domain = str(install.get("domain") or urlsplit(endpoint).netloc)
    if posted_domain and normalize_domain(posted_domain) != normalize_domain(domain):
        # A genuine installer POST names the portal app.info names; another DOMAIN is a forged or
        # tampered request: refuse it before the portal is called or anything is stored.
        raise _fail(InstallRefused, "WRONG_DOMAIN", "DOMAIN is not the portal the token belongs to", member_id)
    if not _is_admin(endpoint, access):
        raise _fail(InstallRefused, "NOT_ADMIN", "only a portal administrator can install the app", member_id)
    try:
        seconds = int(expires_in or 3600)
    except (TypeError, ValueError):
        seconds = 3600
    user_id = info.get("user_id")
    portal = Portal(
        member_id=member_id,
        domain=domain,
        client_endpoint=endpoint,
        server_endpoint=services.settings.oauth_server.rstrip("/") + "/rest/",
        access_token=access,
        refresh_token=refresh,
        expires_at=int(time.time()) + seconds,
        application_token=application_token,
        scope=str(install.get("scope") or info.get("scope") or ""),
        status=INSTALLED,
        lang=lang_of(lang),
        user_id=int(user_id) if str(user_id or "").isdigit() else None,
    )
    known = services.store.portals.get(member_id) is not None          # a reinstall: bindings may exist
    services.store.portals.upsert(portal)
    record_version(services.store, member_id, info)      # an ONAPPUPDATE to this version is not news
    log.info("installed on portal %s (%s)", member_id, portal.domain)
    warnings = bind_lifecycle_events(services, member_id, look_first=known)
    job = queue_install_job(services, member_id)
    return InstallResult(portal=services.store.portals.get(member_id) or portal, lang=portal.lang,
                         warnings=warnings, job=job)


def _bound(client, handler: str) -> set[str] | None:
    """Events already bound to ``handler`` (``event.get``); None when the portal did not say."""
    try:
        rows = client.call("event.get") or []
    except B24Error as exc:
        log.info("event.get failed (%s); binding the lifecycle events without looking", exc.code)
        return None
    return {str(r.get("event") or "").upper() for r in rows
            if isinstance(r, dict) and str(r.get("handler") or "").rstrip("/") == handler.rstrip("/")}


def bind_lifecycle_events(services, member_id: str, look_first: bool = True) -> list[str]:
    """``event.bind`` ONAPPUNINSTALL → ``{public_url}/events``, only where ``event.get`` does not already
    list it: a reinstall binds nothing twice. A portal we never stored has no binding of ours, so a first
    install (``look_first=False``) binds without the extra call — the portal's request budget is small
    (2 req/s) and the install job needs it. A second bind would be answered 'already binded', fine too."""
    handler = services.settings.public_url.rstrip("/") + "/events"
    client = services.client(member_id)
    bound = (_bound(client, handler) if look_first else None) or set()
    warnings = []
    for event in LIFECYCLE_EVENTS:
        if event in bound:
            continue
        try:
            client.call("event.bind", {"event": event, "handler": handler})
        except B24Error as exc:
            if "already binded" in (exc.description or "").lower():
                continue
            log.warning("portal %s: event.bind %s failed: %s", member_id, event, exc)
            warnings.append(public_message(f"event.bind {event}: {exc.code} {exc.description}"))
    return warnings


def post_install(services, member_id: str, progress=None) -> list[dict]:
    """Run every registered hook (the app.json installer) after the portal is stored. A failing hook does
    not undo the install — the admin can re-run it — but is reported as ``{code, message}`` (no URL, no
    credential: the text is stored and shown). A hook that takes ``progress`` gets
    ``progress(done, total, step_text)`` to report how far it is."""
    warnings = []
    for hook in services.registry.install_hooks:
        if not enabled(services.store, member_id, hook.domain):
            continue
        fn = hook.fn
        try:
            if progress is not None and "progress" in inspect.signature(fn).parameters:
                fn(services, member_id, progress=progress)
            else:
                fn(services, member_id)
        except Exception as exc:
            log.exception("post_install %s failed for %s", getattr(fn, "__name__", fn), member_id)
            warnings.append(error_record(exc, getattr(fn, "__name__", "hook")))
    return warnings


# --- the install job: the app.json install runs in the worker, its progress lives in KV ---------------
# On a real portal (2 req/s after a burst of 50, reference §7.3) installing app.json takes a while; the
# portal's install POST must not wait for it, and the admin must see how far it is (GET /install/status).
PROGRESS_KEY = "install.progress"
JOB_KIND, JOB_NAME = "app", "INSTALL"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def progress_of(store, member_id: str) -> dict:
    """``{state, done, total, step, errors, job, updated}``; state queued | running | done | failed;
    errors are ``{code, message}`` (see ``error_items`` for records written before that)."""
    return store.kv.get(member_id, PROGRESS_KEY) or {"state": DONE, "done": 0, "total": 0, "step": "",
                                                        "errors": [], "job": None, "updated": None}


def _set_progress(store, member_id: str, **values) -> dict:
    cur = store.kv.get(member_id, PROGRESS_KEY) or {}
    cur = {"done": 0, "total": 0, "step": "", "errors": [], **cur, **values, "updated": time.time()}
    store.kv.set(member_id, PROGRESS_KEY, cur)
    return cur


def queue_install_job(services, member_id: str) -> str | None:
    """Queue the app.json install as an inbox item (kind "app", name "INSTALL") for the worker; returns
    the job id, or None when nothing is registered to run (the install is then complete at once)."""
    if not services.registry.install_hooks:
        _set_progress(services.store, member_id, state=DONE, job=None, done=0, total=0, step="", errors=[])
        return None
    job = uuid.uuid4().hex
    _set_progress(services.store, member_id, state=QUEUED, job=job, done=0, total=0, step="", errors=[])
    services.store.inbox.put(member_id, JOB_KIND, JOB_NAME, {"job": job}, f"install-job:{member_id}:{job}")
    log.info("portal %s: install job %s queued", member_id, job)
    return job


def run_install_job(services, member_id: str, payload: dict) -> None:
    """The worker's side: detect how offline events can be pulled, run the hooks with a progress callback,
    and record done / failed. Never raises: a failed install waits for the admin's retry, not the inbox's."""
    store = services.store
    job = (payload or {}).get("job")
    cur = store.kv.get(member_id, PROGRESS_KEY) or {}
    if job and cur.get("job") not in (None, job):
        log.info("portal %s: install job %s superseded by %s", member_id, job, cur.get("job"))
        return
    _set_progress(store, member_id, state=RUNNING, job=job, errors=[], step="")

    def mine() -> bool:         # a re-install queued a newer job meanwhile: its record is not ours to write
        return (store.kv.get(member_id, PROGRESS_KEY) or {}).get("job") == job

    def progress(done: int, total: int, step: str) -> None:
        if mine():
            _set_progress(store, member_id, state=RUNNING, done=int(done), total=int(total), step=str(step))

    errors: list[dict] = []
    try:
        detect_offline_mode(services, member_id)
    except Exception as exc:  # noqa: BLE001 - the portal may be gone; the hooks will say so too
        log.warning("portal %s: offline mode not detected: %s", member_id, exc)
    errors += post_install(services, member_id, progress=progress)
    if not mine():
        log.info("portal %s: install job %s finished after a newer one was queued", member_id, job)
        return
    final = progress_of(store, member_id)
    total = max(int(final.get("total") or 0), int(final.get("done") or 0))
    if errors:
        _set_progress(store, member_id, state=FAILED, errors=errors, total=total)
    else:
        _set_progress(store, member_id, state=DONE, errors=[], done=total, total=total, step="")
    log.info("portal %s: install job %s %s", member_id, job, "failed" if errors else "done")


def error_items(progress: dict) -> list[dict]:
    """The stored errors as ``{code, message}``; an older plain-text entry is cleaned the same way."""
    out = []
    for e in progress.get("errors") or []:
        if isinstance(e, dict):
            out.append({"code": str(e.get("code") or "ERROR"), "message": public_message(e.get("message") or "")})
        else:                               # "CODE: text" or any text, as stored before codes
            m = _LEGACY_ERROR.match(str(e))
            code, text = (m.group(1), m.group(2)) if m else ("ERROR", str(e))
            out.append({"code": code, "message": public_message(text)})
    return out


_LEGACY_ERROR = re.compile(r"^([A-Z][A-Z0-9_]{2,63}): (.*)$", re.S)


def retry_install(services, member_id: str) -> str | None:
    """The admin's "retry" (POST /install/retry): queue a new job unless one is queued or running."""
    cur = progress_of(services.store, member_id)
    if cur.get("state") in (QUEUED, RUNNING):
        return cur.get("job")
    return queue_install_job(services, member_id)


def uninstall(services, member_id: str, clean: bool) -> None:
    """ONAPPUNINSTALL (reference §1.4): our API access is already revoked. CLEAN → forget every row of
    the portal; otherwise keep its data (a re-install finds it) but drop the dead tokens."""
    for hook in services.registry.uninstall_hooks:
        hook.fn(services.store, member_id, clean)
    if clean:
        services.store.portals.forget(member_id)
        log.info("portal %s uninstalled with CLEAN: all rows deleted", member_id)
        return
    portal = services.store.portals.get(member_id)
    if portal is None:
        return
    services.store.portals.upsert(replace(portal, status=UNINSTALLED, access_token=None, refresh_token=None,
                                          expires_at=None))
    log.info("portal %s uninstalled; data kept", member_id)
