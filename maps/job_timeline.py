"""A job robot's note on the deal's timeline: ``crm.timeline.comment.add`` with the photos as ``FILES``
([name, base64]), posted once per robot call (kv ``robot_timeline:<event_token>``).

Photo links are text a workflow author typed, so only the portal's own origins and
``B24APP_PHOTO_HOSTS`` are fetched, through the outbound guard (no SSRF)."""
from __future__ import annotations

import base64
import os.path
from urllib.parse import unquote, urlparse, urlsplit

import requests

from b24app.outbound import OutboundGuard, OutboundRefused, default_guard
from b24app.robot_runtime import RobotCall, RobotError

TIMELINE_KEY = "robot_timeline:"
START_TITLE = "Работа начата"
FINISH_TITLE = "Работа завершена"
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_TIMEOUT_S = 15


def post_once(call: RobotCall, deal_id: int, text: str, photos: list) -> tuple[int, list[str]]:
    """``crm.timeline.comment.add`` with the photos as ``FILES`` ([name, base64]); remembered per
    ``event_token``, so an inbox retry after a later step failed does not post the comment twice.
    Returns (comment id, why each photo that could not be attached was left out)."""
    kv, token = call.services.store.kv, str(call.payload.get("event_token") or "")
    done = kv.get(call.member_id, TIMELINE_KEY + token) if token else None
    if done:
        return int(done["id"]), list(done.get("skipped") or [])
    files, skipped = [], []
    hosts, guard = _photo_hosts(call), OutboundGuard.from_settings(call.services.settings)
    for k, ref in enumerate(photos or [], 1):
        try:
            files.append(_photo(ref, k, hosts, guard))
        except RobotError as exc:
            skipped.append(str(exc))
    if skipped:
        text += "\n" + "\n".join(f"Не прикреплено: {s}" for s in skipped)
    fields = {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": text}
    if files:
        fields["FILES"] = files
    cid = int(call.client.call("crm.timeline.comment.add", {"fields": fields}))
    if token:
        kv.set(call.member_id, TIMELINE_KEY + token, {"id": cid, "skipped": skipped})
    return cid, skipped


def _photo_hosts(call: RobotCall) -> set[tuple[str, str, int]]:
    """Origins (scheme, host, port) a photo link may point at: the portal's own (its ``publink`` /
    ``shortlink`` live there) plus ``B24APP_PHOTO_HOSTS`` (comma-separated ``host`` = its default ports,
    ``host:port`` = that port over http or https, ``https://host[:port]`` = exactly that origin). Anything
    else is refused before a request is made: a robot property is text a workflow author typed, and the
    app must not fetch arbitrary URLs (SSRF). The outbound guard checks the address on top of this."""
    origins: set[tuple[str, str, int]] = set()
    portal = call.services.store.portals.get(call.member_id)
    if portal is not None:
        origins |= _origins(portal.client_endpoint)
    for entry in str(getattr(call.services.settings, "photo_hosts", "") or "").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if "://" in entry:
            origins |= _origins(entry)
            continue
        parts = urlsplit("//" + entry)
        try:
            port = parts.port
        except ValueError:
            continue
        for scheme, default in (("http", 80), ("https", 443)):
            if parts.hostname:
                origins.add((scheme, parts.hostname, port or default))
    return origins


def _origins(url: str) -> set[tuple[str, str, int]]:
    parts = urlsplit(url.strip().lower())
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return set()
    return {(parts.scheme, parts.hostname, port)} if parts.hostname and port else set()


def _photo(ref: str, k: int, hosts: set[tuple[str, str, int]], guard=None) -> list[str]:
    """One robot file value → [name, base64]. A link (the designer's ``> publink`` / ``> shortlink``, or any
    http(s) URL) is downloaded through the outbound guard (``guard``; else the environment's).
    A bare number is what the portal sends for a file value itself (the robot
    gets the file's id, bizproc/classes/general/restactivity.php → BaseType\\File::externalizeValue), and
    REST has no method that returns such a file, so it is reported instead of silently dropped."""
    ref = str(ref).strip()
    if ref.isdigit():
        raise RobotError(f"file #{ref}: the portal passes robot files as ids REST cannot read; "
                         "pass a link ({=…:FIELD > publink})")
    url = urlparse(ref)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise RobotError(f"{ref[:80]!r} is neither a file link nor a file id")
    if not (_origins(ref) & hosts):
        shown = ", ".join(sorted(f"{s}://{h}:{p}" for s, h, p in hosts))
        raise RobotError(f"{ref[:120]}: not a link to this portal's files (allowed: {shown}; more in "
                         "B24APP_PHOTO_HOSTS)")
    try:
        with (guard or default_guard()).session() as session, \
                session.get(ref, timeout=PHOTO_TIMEOUT_S, stream=True) as r:
            if r.status_code != 200:
                raise RobotError(f"{ref[:120]}: HTTP {r.status_code}")
            body = b""
            for chunk in r.iter_content(64 * 1024):
                body += chunk
                if len(body) > PHOTO_MAX_BYTES:
                    raise RobotError(f"{ref[:120]}: larger than {PHOTO_MAX_BYTES // (1024 * 1024)} MB")
    except OutboundRefused as exc:
        raise RobotError(f"{ref[:120]}: {exc}") from None
    except requests.RequestException as exc:
        raise RobotError(f"{ref[:120]}: {type(exc).__name__}") from None
    name = os.path.basename(unquote(url.path)) or f"photo-{k}.jpg"
    return [name, base64.b64encode(body).decode("ascii")]
