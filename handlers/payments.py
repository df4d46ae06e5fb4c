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

from b24app.i18n import lang_of
from b24app.outbound import OutboundGuard, OutboundRefused
from install.manifest import load as load_manifest
from install.registry import NotInstalled, installed_ids
from sync_1c import connection, pipeline_settings, profiles, review, sync
from sync_1c import settings as sync_settings
from sync_1c.jobs import accept_push
from sync_1c.ledger_store import LedgerStore

from .common import json_api, json_error, services

bp = Blueprint("payments", __name__)
_admin = json_api(need="settings")      # the 1C connection and its review list are an administrator's


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


# --- settings and review list, for the app's pages (an administrator's page session) -----------------------
@bp.get("/api/1c/settings")
@_admin
def get_settings(sess):
    """The connection as stored, without the password (``password_set`` says whether one is stored)."""
    svc = services()
    try:
        conn = connection.load(svc.store.kv, sess.member_id).public()
    except connection.NotConfigured:
        conn = None
    cur = LedgerStore(svc.store.engine, sess.member_id).cursor()
    try:
        ids = installed_ids(svc.store, sess.member_id)
        pipelines = pipeline_settings.current(svc.store.kv, sess.member_id, ids)
    except NotInstalled:
        ids, pipelines = None, {}
    return jsonify({"connection": conn, "profiles": [{"name": p.name, "title": p.title, "verified": p.verified}
                                                     for p in profiles.PROFILES.values()],
                    "pipeline_choices": _pipeline_choices(ids, sess.lang),
                    "last_ok_at": cur["last_ok_at"] and cur["last_ok_at"].isoformat(),
                    "last_error": cur["last_error"], "stats": cur["stats"], **pipelines,
                    "push_url": f"{svc.settings.public_url}/api/1c/push/{sess.member_id}"})


def _pipeline_choices(ids, lang: str) -> list[dict]:
    """The installed pipelines with their stages (our keys, app.json names) for the gate and auto-forward form."""
    if ids is None:
        return []
    lang, installed = lang_of(lang), set(ids.data.get("pipelines", {}))
    return [{"key": p["key"], "name": p["name"].get(lang) or p["name"]["en"],
             "stages": [{"key": st["key"], "name": st["name"].get(lang) or st["name"]["en"]} for st in p["stages"]]}
            for p in load_manifest().pipelines if p["key"] in installed]


@bp.post("/api/1c/settings")
@_admin
def save_settings(sess):
    """Save (an empty password keeps the stored one) and check the connection at once; answers the
    problems list — empty when `$metadata` has everything the profile needs. Also takes the per-pipeline
    ``gate`` and ``auto_forward``. sync_1c.settings checks the whole document first: any invalid value is
    400 BAD_SETTINGS and nothing stored."""
    svc = services()
    return jsonify(sync_settings.save(svc.store, sess.member_id, request.get_json(silent=True),
                                      OutboundGuard.from_settings(svc.settings)))


@bp.post("/api/1c/push-secret")
@_admin
def rotate_push_secret(sess):
    """A new shared secret for the 1C HTTP service, shown once to the administrator who asked."""
    svc = services()
    svc.store.kv.set(sess.member_id, connection.PUSH_SECRET_KEY, None)
    return jsonify({"secret": connection.push_secret(svc.store.kv, sess.member_id),
                    "push_url": f"{svc.settings.public_url}/api/1c/push/{sess.member_id}"})


@bp.post("/api/1c/check")
@_admin
def check_connection(sess):
    """"Check connection": the stored connection's `$metadata` against its profile, now (not the sync's
    hourly cache). ``ok`` with an empty problems list, or the problems in the words of connection.check."""
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
    problems, warnings = connection.check_full(conn, guard=guard)
    hidden = None
    if not problems:        # how many payment documents of the window row-level security hides from the user
        hidden = sync.count_hidden_now(svc, sess.member_id)
    return jsonify({"ok": not problems, "problems": problems, "warnings": warnings, "base_url": conn.base_url,
                    "profile": conn.profile, "hidden": hidden})


@bp.get("/api/1c/review")
@_admin
def review_list(sess):
    """Payments a person must attach (ambiguous or unmatched orders, unallocated money), orders several
    deals carry (with the deals to choose from), register/documents differences, hidden documents."""
    return jsonify({"items": LedgerStore(services().store.engine, sess.member_id).review()})


@bp.post("/api/1c/review/bind")
@_admin
def bind_order(sess):
    """The review list's button: bind a 1C order several deals carry to one of them (administrators only;
    the next sync writes the order key on that deal, the other deals stay unpaid)."""
    return jsonify(review.bind(services().store.engine, sess.member_id, request.get_json(silent=True)))
