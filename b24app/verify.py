"""Who is calling: verification as its own piece, run before any work (like bolt-python's
request_verification middleware), with one failure type that handlers turn into one JSON answer.

* Events and robot calls carry ``auth[application_token]`` — the per-app-per-portal secret we stored at
  install (reference §1.5, docs api-reference/events/safe-event-handlers.md). It is compared in constant
  time against the portal found by ``auth[member_id]``; for ONAPPUNINSTALL it is the only check possible.
* Frames carry ``AUTH_ID``, a user's access token, and ``APPLICATION_TOKEN`` (posted on every frame of an
  installed app, docs settings/oauth/simple-way.md). Before anything leaves this process the frame must
  carry the stored APPLICATION_TOKEN (constant time) and a ``DOMAIN`` equal to the stored one; only then
  we ask the portal who AUTH_ID is (``user.current``) at the portal's *stored* ``client_endpoint`` —
  never the posted ``DOMAIN``/``SERVER_ENDPOINT``, so a forged frame cannot make us call another host.
  That call takes a slot of the portal's leaky bucket like every other call of ours (a forger cannot
  push our worker into 503s); answers are cached under a hash of the token (the token itself is never
  kept): a confirmation for ``frame_check_ttl`` seconds, a refusal for ``frame_reject_ttl``.
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
    """The request is not proven to come from an installed portal. ``status`` is 401 (no/invalid proof),
    403 (a proof, but not for this portal / not an installed portal) or 503 (the portal's request budget
    is used up, so the frame could not be checked now)."""

    def __init__(self, status: int, error: str, description: str, member_id: str | None = None):
        super().__init__(f"{status} {error}: {description}")
        self.status, self.error, self.description, self.member_id = status, error, description, member_id

    def as_dict(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def _fail(kind: str, status: int, error: str, description: str, member_id: str | None) -> VerificationError:
    log.warning("verify %s rejected: %s %s (member_id=%s)", kind, status, error, member_id or "-")
    return VerificationError(status, error, description, member_id)


def _same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two non-empty secrets."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def _by_application_token(kind: str, store, member_id: str, token: str, need_installed: bool) -> Portal:
    if not member_id or not token:
        raise _fail(kind, 401, "NO_AUTH", "auth[member_id] and auth[application_token] are required", member_id)
    portal = store.portals.get_cached(member_id)
    if portal is not None and not _same(token, portal.application_token):
        portal = store.portals.get_cached(member_id, fresh=True)   # re-installed elsewhere? ask the database
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
    refresh_id: str = field(default="", repr=False)     # the person's REFRESH_ID: acting as them later
    auth_expires: int = 3600


class FrameCheckCache:
    """sha256(AUTH_ID) → (member_id, user or None for "refused", valid_until). Process-local: a miss only
    costs one portal call."""

    def __init__(self, clock=time.monotonic):
        self._d: dict[str, tuple[str, dict | None, float]] = {}
        self._lock = threading.Lock()
        self.clock = clock

    @staticmethod
    def key(auth_id: str) -> str:
        return hashlib.sha256(auth_id.encode()).hexdigest()

    def _hit(self, auth_id: str, member_id: str):
        with self._lock:
            hit = self._d.get(self.key(auth_id))
        if hit is None or hit[2] <= self.clock() or hit[0] != member_id:
            return None
        return hit

    def get(self, auth_id: str, member_id: str) -> dict | None:
        """The confirmed user, or None (not asked yet, expired, or refused)."""
        hit = self._hit(auth_id, member_id)
        return hit[1] if hit is not None else None

    def refused(self, auth_id: str, member_id: str) -> bool:
        hit = self._hit(auth_id, member_id)
        return hit is not None and hit[1] is None

    def put(self, auth_id: str, member_id: str, user: dict | None, ttl: float) -> None:
        """``user=None`` records a refusal."""
        if ttl <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._d) > 10000:
                self._d = {k: v for k, v in self._d.items() if v[2] > now}
            self._d[self.key(auth_id)] = (member_id, user, now + ttl)


FRAME_CACHE = FrameCheckCache()


def _ask_portal(endpoint: str, method: str, auth_id: str, timeout: float = 15.0,
                params: dict | None = None) -> tuple[int, dict]:
    """One REST call with the user's token to the stored endpoint; redirects are not followed, so a
    302 cannot send the token elsewhere."""
    try:
        r = requests.post(endpoint.rstrip("/") + f"/{method}.json", data={**(params or {}), "auth": auth_id},
                          timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return 0, {"error": "TRANSPORT_ERROR", "error_description": f"{type(exc).__name__}"}
    try:
        body = r.json()
    except (ValueError, json.JSONDecodeError):
        body = {"error": "ERROR_UNEXPECTED_ANSWER", "error_description": r.text[:200]}
    return r.status_code, body if isinstance(body, dict) else {"result": body}


class PortalBusy(Exception):
    """No slot in the portal's request budget within ``frame_check_max_wait``."""


def check_auth_id(portal: Portal, auth_id: str, acquire=None) -> tuple[dict | None, bool]:
    """(the user behind ``auth_id`` on this portal or None, whether the portal itself answered).

    One request: a batch of ``user.current`` and ``user.admin`` — who the person is and whether the portal
    calls them an administrator (``_is_admin`` in the returned dict), so opening a page costs the portal's
    budget one request, not two. A token without the user scope falls back to the portal's ``app.info``
    (proves the token, not the user). ``acquire()`` runs before each call (the portal's leaky bucket)."""
    def ask(method: str, params: dict | None = None) -> tuple[int, dict]:
        if acquire is not None:
            acquire()
        return _ask_portal(portal.client_endpoint, method, auth_id, params=params)

    status, body = ask("batch", {"halt": "0", "cmd[who]": "user.current", "cmd[admin]": "user.admin"})
    inner = body.get("result") if status == 200 and isinstance(body.get("result"), dict) else {}
    results, errors = inner.get("result") or {}, inner.get("result_error") or {}
    if isinstance(results, dict) and isinstance(results.get("who"), dict):
        return {**results["who"], "_is_admin": results.get("admin") is True}, True
    who_error = (errors.get("who") or {}).get("error") if isinstance(errors, dict) else None
    if who_error in ("insufficient_scope", "INSUFFICIENT_SCOPE"):
        status, body = ask("app.info")
        if status == 200 and isinstance(body.get("result"), dict):
            return {}, True
    log.info("portal %s rejected AUTH_ID: %s %s", portal.member_id, status, body.get("error") or who_error)
    return None, 400 <= status < 500          # a transport error or a 5xx proves nothing either way


def normalize_domain(value) -> str:
    """``DOMAIN`` as comparable text: case-insensitive, a port kept (the sandbox is host:port), the
    scheme's default port and a trailing dot dropped."""
    host = str(value or "").strip().lower().rstrip("/").rstrip(".")
    for default in (":443", ":80"):
        if host.endswith(default):
            host = host[: -len(default)]
    return host


def _ask_who(services, portal: Portal, auth_id: str, cache: FrameCheckCache) -> dict:
    settings = services.settings
    bucket = services.throttle.bucket(portal.member_id)
    max_wait = float(getattr(settings, "frame_check_max_wait", 5.0))

    def acquire():
        if bucket.acquire(max_wait=max_wait) is None:
            raise PortalBusy()

    try:
        user, answered = check_auth_id(portal, auth_id, acquire)
    except PortalBusy:
        raise _fail("frame", 503, "PORTAL_BUSY", "the portal's request limit is used up: reopen the app in a "
                    "few seconds", portal.member_id) from None
    if user is None:
        if answered:
            cache.put(auth_id, portal.member_id, None, getattr(settings, "frame_reject_ttl", 30))
        raise _fail("frame", 401, "INVALID_AUTH", "the portal did not confirm AUTH_ID", portal.member_id)
    cache.put(auth_id, portal.member_id, user, getattr(settings, "frame_check_ttl", 60))
    return user


def verify_frame(services, form: dict, query: dict, cache: FrameCheckCache | None = None) -> FrameContext:
    """A frame POST (reference §1.2) → FrameContext, or VerificationError before any work is done.

    Local checks first (nothing leaves the process): member_id of an installed portal, its
    APPLICATION_TOKEN, its DOMAIN. Then AUTH_ID at the stored endpoint, through the portal's bucket."""
    cache = FRAME_CACHE if cache is None else cache
    member_id = str(form.get("member_id") or "")
    auth_id = str(form.get("AUTH_ID") or "")
    if not member_id or not auth_id:
        raise _fail("frame", 401, "NO_AUTH", "member_id and AUTH_ID are required", member_id)
    portal = services.store.portals.get(member_id)
    if portal is None or portal.status not in FRAME_STATUSES:
        raise _fail("frame", 403, "PORTAL_NOT_INSTALLED", "the app is not installed on this portal", member_id)
    if not _same(str(form.get("APPLICATION_TOKEN") or ""), portal.application_token):
        raise _fail("frame", 401, "INVALID_APPLICATION_TOKEN", "APPLICATION_TOKEN is missing or does not match "
                    "this portal", member_id)
    posted_domain = normalize_domain(query.get("DOMAIN"))
    if not posted_domain or posted_domain != normalize_domain(portal.domain):
        raise _fail("frame", 403, "WRONG_DOMAIN", "DOMAIN is not this portal's address (if the portal was "
                    "renamed, reinstall the app)", member_id)
    user = cache.get(auth_id, member_id)
    if user is None:
        if cache.refused(auth_id, member_id):
            raise _fail("frame", 401, "INVALID_AUTH", "the portal did not confirm AUTH_ID", member_id)
        user = _ask_who(services, portal, auth_id, cache)
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
        refresh_id=str(form.get("REFRESH_ID") or ""),
        auth_expires=int(form["AUTH_EXPIRES"]) if str(form.get("AUTH_EXPIRES") or "").isdigit() else 3600,
    )
