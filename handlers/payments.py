"""``POST /api/1c/push/<member_id>``: a 1C HTTP service says "these payments changed" → a targeted pull.

Thin edge: check the portal's shared secret (header ``X-B24App-1C-Secret`` or ``Authorization: Bearer``,
compared in constant time), queue the push in the inbox, answer 202 at once. Body: ``{"refs": [...]}``,
``{"refs": [{"Ref_Key", "DataVersion"}]}``, one such object, or ``{"changed_since": "..."}``; an optional
``"id"`` is 1C's message id (a new one per notification). A re-send is ``"duplicate": true``; the same
refs pushed again after the previous push was pulled are pulled again (sync_1c.jobs.accept_push).
"""
from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request

from b24app import roles as app_roles
from b24app import session as page_sessions
from b24app.outbound import OutboundGuard, OutboundRefused
from install.registry import NotInstalled, installed_ids
from sync_1c import connection, pipeline_settings, profiles
from sync_1c.jobs import accept_push
from sync_1c.ledger_store import LedgerStore

from .common import json_error, page_session, services, session_error

bp = Blueprint("payments", __name__)
CONNECTION_KEYS = {"base_url", "username", "password", "profile", "tz", "lookback_days", "interval", "reread_days"}
PIPELINE_KEYS = {"gate", "auto_forward"}


def _presented() -> str:
    auth = request.headers.get("Authorization", "")
    return request.headers.get("X-B24App-1C-Secret") or (auth[7:] if auth.lower().startswith("bearer ") else "")


@bp.post("/api/1c/push/<member_id>")
def push(member_id: str):
    svc = services()
    portal = svc.store.portals.get(member_id)
    secret = connection.push_secret(svc.store.kv, member_id, create=False) if portal else None
    given = _presented()
    if not given:
        return json_error(401, "NO_SECRET", "the shared secret of this portal is required")
    # compare even when the portal or its secret is unknown, so timing does not tell which
    if not hmac.compare_digest(given.encode(), (secret or "\x00" * 43).encode()) or not secret \
            or portal.status != "installed":
        return json_error(403, "BAD_SECRET", "wrong shared secret or unknown portal")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        body = {"refs": body} if isinstance(body, list) else None
    if body is None:
        return json_error(400, "BAD_BODY", "JSON body expected: {\"refs\": [...]} or {\"changed_since\": \"...\"}")
    try:
        fresh = accept_push(svc.store, member_id, body)
    except ValueError as exc:
        return json_error(400, "BAD_BODY", str(exc))
    return jsonify({"result": True, "duplicate": not fresh}), 202


# --- settings and review list, for the app's pages (page session of an installed portal) ----------------
def _admin_session():
    """The 1C connection and its review list are an administrator's (b24app.roles "settings")."""
    try:
        sess = page_session()
    except page_sessions.SessionError as exc:
        return None, session_error(exc)
    if not sess.can("settings"):
        return None, json_error(403, "ROLE_REQUIRED", app_roles.needed_text("settings", sess.lang))
    return sess, None


@bp.get("/api/1c/settings")
def get_settings():
    """The connection as stored, without the password (``password_set`` says whether one is stored)."""
    sess, err = _admin_session()
    if err:
        return err
    svc = services()
    try:
        conn = connection.load(svc.store.kv, sess.member_id).public()
    except connection.NotConfigured:
        conn = None
    from sync_1c.ledger_store import LedgerStore

    cur = LedgerStore(svc.store.engine, sess.member_id).cursor()
    try:
        ids = installed_ids(svc.store, sess.member_id)
        pipelines = pipeline_settings.current(svc.store.kv, sess.member_id, ids)
    except NotInstalled:
        ids, pipelines = None, {}
    return jsonify({"connection": conn, "profiles": [{"name": p.name, "title": p.title} for p in
                                                     profiles.PROFILES.values()],
                    "pipeline_choices": _pipeline_choices(ids, sess.lang), "last_ok_at": cur["last_ok_at"] and cur["last_ok_at"].isoformat(),
                    "last_error": cur["last_error"], "stats": cur["stats"], **pipelines,
                    "push_url": f"{svc.settings.public_url}/api/1c/push/{sess.member_id}"})


def _bad_connection_value(values: dict, stored: dict) -> str | None:
    """The first connection value a person must correct, in words (before anything is written)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    merged = {**stored, **values}
    if values or not stored:
        for k in ("base_url", "username", "password"):
            if not merged.get(k):
                return f"{k} is required: the 1C connection needs the OData URL, a login and a password"
    url = str(merged.get("base_url") or "")
    if url and not url.lower().startswith(("http://", "https://")):
        return f"base_url must be an http(s):// address of the OData publication, got {url!r}"
    for k, lo in (("interval", 60), ("lookback_days", 1), ("reread_days", 1)):
        if k in values and (isinstance(values[k], bool) or not str(values[k]).isdigit() or int(values[k]) < lo):
            return f"{k} must be a whole number ≥ {lo}, got {values[k]!r}"
        if k in values:
            values[k] = int(values[k])
    if "tz" in values:
        try:
            ZoneInfo(str(values["tz"]))
        except (ZoneInfoNotFoundError, ValueError):
            return f"tz: unknown time zone {values['tz']!r} (an IANA name like Europe/Moscow)"
    return None


def _pipeline_choices(ids, lang: str) -> list[dict]:
    """The installed pipelines with their stages (our keys, app.json names) for the gate and auto-forward form."""
    from b24app.i18n import lang_of
    from install.manifest import load

    if ids is None:
        return []
    lang, installed = lang_of(lang), set(ids.data.get("pipelines", {}))
    return [{"key": p["key"], "name": p["name"].get(lang) or p["name"]["en"],
             "stages": [{"key": st["key"], "name": st["name"].get(lang) or st["name"]["en"]} for st in p["stages"]]}
            for p in load().pipelines if p["key"] in installed]


@bp.post("/api/1c/settings")
def save_settings():
    """Save (an empty password keeps the stored one) and check the connection at once; answers the
    problems list — empty when `$metadata` has everything the profile needs. Also takes the per-pipeline
    ``gate`` and ``auto_forward`` settings (sync_1c.pipeline_settings), checked against the installed
    pipelines and stages; any invalid value → 400 and nothing stored."""
    sess, err = _admin_session()
    if err:
        return err
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "BAD_SETTINGS", "a JSON object is expected")
    unknown = sorted(set(body) - CONNECTION_KEYS - PIPELINE_KEYS)
    if unknown:
        return json_error(400, "BAD_SETTINGS", f"unknown setting(s): {', '.join(unknown)}")
    values = {k: v for k, v in body.items() if k in CONNECTION_KEYS and v not in ("", None)}
    svc = services()
    problem = _bad_connection_value(values, svc.store.kv.get(sess.member_id, connection.KV_KEY) or {})
    if problem:
        return json_error(400, "BAD_SETTINGS", problem)
    guard = OutboundGuard.from_settings(svc.settings)
    if "base_url" in values:
        try:                                # before anything is stored or any request is sent
            guard.check(str(values["base_url"]))
        except OutboundRefused as exc:
            return json_error(400, "BAD_SETTINGS", f"base_url: {exc}")
    out: dict = {}
    try:
        if PIPELINE_KEYS & set(body):
            ids = installed_ids(svc.store, sess.member_id)
            for k in PIPELINE_KEYS & set(body):         # validate before any write
                getattr(pipeline_settings, f"parse_{k}")(body[k], ids)
        if values or not (PIPELINE_KEYS & set(body)):
            conn = connection.save(svc.store.kv, sess.member_id, **values)
            out = {"connection": conn.public(), "problems": connection.check(conn, guard=guard)}
        if PIPELINE_KEYS & set(body):
            out.update(pipeline_settings.save(svc.store.kv, sess.member_id, ids, body))
    except pipeline_settings.SettingsError as exc:
        return json_error(400, "BAD_SETTINGS", str(exc))
    except NotInstalled as exc:
        return json_error(409, "NOT_INSTALLED", str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        return json_error(400, "BAD_SETTINGS", str(exc).strip("'\""))
    return jsonify(out)


@bp.post("/api/1c/push-secret")
def rotate_push_secret():
    """A new shared secret for the 1C HTTP service, shown once to the administrator who asked."""
    sess, err = _admin_session()
    if err:
        return err
    svc = services()
    svc.store.kv.set(sess.member_id, connection.PUSH_SECRET_KEY, None)
    return jsonify({"secret": connection.push_secret(svc.store.kv, sess.member_id),
                    "push_url": f"{svc.settings.public_url}/api/1c/push/{sess.member_id}"})


@bp.post("/api/1c/check")
def check_connection():
    """"Check connection": the stored connection's `$metadata` against its profile, now (not the sync's
    hourly cache). ``ok`` with an empty problems list, or the problems in the words of connection.check."""
    sess, err = _admin_session()
    if err:
        return err
    svc = services()
    try:
        conn = connection.load(svc.store.kv, sess.member_id)
    except connection.NotConfigured:
        return json_error(409, "NOT_CONFIGURED", "no 1C connection is saved yet: enter the URL, login and password "
                                                 "and save them first")
    guard = OutboundGuard.from_settings(svc.settings)
    try:
        guard.check(conn.base_url)
    except OutboundRefused as exc:
        return json_error(400, "URL_NOT_ALLOWED", f"base_url: {exc}")
    problems = connection.check(conn, guard=guard)
    return jsonify({"ok": not problems, "problems": problems, "base_url": conn.base_url, "profile": conn.profile})


@bp.get("/api/1c/review")
def review_list():
    """Payments a person must attach (ambiguous or unmatched orders, unallocated money)."""
    sess, refusal = _admin_session()
    if refusal is not None:
        return refusal
    return jsonify({"items": LedgerStore(services().store.engine, sess.member_id).review()})
