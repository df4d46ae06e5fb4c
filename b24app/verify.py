"""Who is calling: verification as its own piece, run before any work (like bolt-python's
request_verification middleware), with one failure type that handlers turn into one JSON answer.

* Events and robot calls carry ``auth[application_token]`` — the per-app-per-portal secret we stored at
  install (reference §1.5, docs api-reference/events/safe-event-handlers.md). It is compared in constant
  time against the portal found by ``auth[member_id]``; for ONAPPUNINSTALL it is the only check possible.
* Frames carry ``AUTH_ID``, a user's access token. We ask the portal who that is (``user.current``) at the
  portal's *stored* ``client_endpoint`` — never the posted ``DOMAIN``/``SERVER_ENDPOINT``, so a forged
  frame cannot make us call another host. A positive answer is cached for ``frame_check_ttl`` seconds
  under a hash of the token (the token itself is never kept).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass, field

import requests

from .store.interface import INSTALLED, NEEDS_REINSTALL, Portal

log = logging.getLogger("b24app.verify")

FRAME_STATUSES = (INSTALLED, NEEDS_REINSTALL)   # a frame may open to show "please re-install"
# A portal whose refresh token died still sends genuine events: keep them (the worker retries until an
# admin re-installs) rather than lose them.
EVENT_STATUSES = (INSTALLED, NEEDS_REINSTALL)


class VerificationError(Exception):
    """The request is not proven to come from an installed portal. ``status`` is 401 (no/invalid proof)
    or 403 (a proof, but not for this portal / not an installed portal)."""

    def __init__(self, status: int, error: str, description: str, member_id: str | None = None):
        super().__init__(f"{status} {error}: {description}")
        self.status, self.error, self.description, self.member_id = status, error, description, member_id

    def as_dict(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def _fail(kind: str, status: int, error: str, description: str, member_id: str | None) -> VerificationError:
    log.warning("verify %s rejected: %s %s (member_id=%s)", kind, status, error, member_id or "-")
    return VerificationError(status, error, description, member_id)


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def _by_application_token(kind: str, store, member_id: str, token: str, need_installed: bool) -> Portal:
    if not member_id or not token:
        raise _fail(kind, 401, "NO_AUTH", "auth[member_id] and auth[application_token] are required", member_id)
    portal = store.portals.get(member_id)
    # Compare against a dummy when the portal is unknown so timing does not tell which member_ids exist.
    expected = portal.application_token if portal is not None and portal.application_token else "\0" * 32
    if not _same(token, expected) or portal is None:
        raise _fail(kind, 401, "INVALID_APPLICATION_TOKEN", "application_token does not match this portal", member_id)
    if need_installed and portal.status not in EVENT_STATUSES:
        raise _fail(kind, 403, "PORTAL_NOT_INSTALLED", f"the app is not installed on this portal ({portal.status})",
                    member_id)
    return portal


def verify_event(store, form: dict) -> Portal:
    """A parsed event POST → the stored Portal it belongs to. ONAPPUNINSTALL: token only (the portal has
    already revoked our access, and a second uninstall must still be answered)."""
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    event = str(form.get("event") or "").upper()
    return _by_application_token("event", store, str(auth.get("member_id") or ""),
                                 str(auth.get("application_token") or ""), need_installed=event != "ONAPPUNINSTALL")


def verify_robot(store, form: dict) -> Portal:
    """A robot/activity call (reference §4.3) carries the same auth block as an event."""
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    return _by_application_token("robot", store, str(auth.get("member_id") or ""),
                                 str(auth.get("application_token") or ""), need_installed=True)


# --- frames ---------------------------------------------------------------------------------------
@dataclass
class FrameContext:
    member_id: str
    user_id: int | None
    lang: str
    placement: str
    placement_options: dict
    auth_id: str
    portal: Portal | None = field(default=None, repr=False)
    user: dict = field(default_factory=dict, repr=False)


class FrameCheckCache:
    """sha256(AUTH_ID) → (member_id, user, valid_until). Process-local: a miss only costs one portal call."""

    def __init__(self, clock=time.monotonic):
        self._d: dict[str, tuple[str, dict, float]] = {}
        self._lock = threading.Lock()
        self.clock = clock

    @staticmethod
    def key(auth_id: str) -> str:
        return hashlib.sha256(auth_id.encode()).hexdigest()

    def get(self, auth_id: str, member_id: str) -> dict | None:
        with self._lock:
            hit = self._d.get(self.key(auth_id))
            if hit is None:
                return None
            if hit[2] <= self.clock() or hit[0] != member_id:
                return None
            return hit[1]

    def put(self, auth_id: str, member_id: str, user: dict, ttl: float) -> None:
        if ttl <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._d) > 10000:
                self._d = {k: v for k, v in self._d.items() if v[2] > now}
            self._d[self.key(auth_id)] = (member_id, user, now + ttl)


FRAME_CACHE = FrameCheckCache()


def _ask_portal(endpoint: str, method: str, auth_id: str, timeout: float = 15.0) -> tuple[int, dict]:
    """One REST call with the user's token to the stored endpoint; redirects are not followed, so a
    302 cannot send the token elsewhere."""
    try:
        r = requests.post(endpoint.rstrip("/") + f"/{method}.json", data={"auth": auth_id}, timeout=timeout,
                          allow_redirects=False)
    except requests.RequestException as exc:
        return 0, {"error": "TRANSPORT_ERROR", "error_description": f"{type(exc).__name__}"}
    try:
        body = r.json()
    except (ValueError, json.JSONDecodeError):
        body = {"error": "ERROR_UNEXPECTED_ANSWER", "error_description": r.text[:200]}
    return r.status_code, body if isinstance(body, dict) else {"result": body}


def check_auth_id(portal: Portal, auth_id: str) -> dict | None:
    """The user behind ``auth_id`` on this portal, or None. ``user.current`` first; a token without the
    user scope falls back to the portal's ``app.info`` (proves the token, not the user)."""
    status, body = _ask_portal(portal.client_endpoint, "user.current", auth_id)
    if status == 200 and isinstance(body.get("result"), dict):
        return body["result"]
    if body.get("error") in ("insufficient_scope", "INSUFFICIENT_SCOPE"):
        status, body = _ask_portal(portal.client_endpoint, "app.info", auth_id)
        if status == 200 and isinstance(body.get("result"), dict):
            return {}
    log.info("portal %s rejected AUTH_ID: %s %s", portal.member_id, status, body.get("error"))
    return None


def verify_frame(services, form: dict, query: dict, cache: FrameCheckCache | None = None) -> FrameContext:
    """A frame POST (reference §1.2) → FrameContext, or VerificationError before any work is done."""
    cache = FRAME_CACHE if cache is None else cache
    member_id = str(form.get("member_id") or "")
    auth_id = str(form.get("AUTH_ID") or "")
    if not member_id or not auth_id:
        raise _fail("frame", 401, "NO_AUTH", "member_id and AUTH_ID are required", member_id)
    portal = services.store.portals.get(member_id)
    if portal is None or portal.status not in FRAME_STATUSES:
        raise _fail("frame", 403, "PORTAL_NOT_INSTALLED", "the app is not installed on this portal", member_id)
    posted_token = form.get("APPLICATION_TOKEN")
    if posted_token and not _same(str(posted_token), portal.application_token):
        raise _fail("frame", 401, "INVALID_APPLICATION_TOKEN", "APPLICATION_TOKEN does not match this portal",
                    member_id)
    user = cache.get(auth_id, member_id)
    if user is None:
        user = check_auth_id(portal, auth_id)
        if user is None:
            raise _fail("frame", 401, "INVALID_AUTH", "the portal did not confirm AUTH_ID", member_id)
        cache.put(auth_id, member_id, user, getattr(services.settings, "frame_check_ttl", 60))
    options = form.get("PLACEMENT_OPTIONS") or {}
    if isinstance(options, str):
        try:
            options = json.loads(options) if options.strip() else {}
        except ValueError:
            options = {"raw": options}
    uid = user.get("ID")
    return FrameContext(
        member_id=member_id,
        user_id=int(uid) if str(uid or "").isdigit() else None,
        lang=str(query.get("LANG") or portal.lang or "ru"),
        placement=str(form.get("PLACEMENT") or "DEFAULT"),
        placement_options=options if isinstance(options, dict) else {"value": options},
        auth_id=auth_id,
        portal=portal,
        user=user,
    )
