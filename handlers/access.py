"""Who may do what: the app roles an administrator assigns, the pickers that name people and departments,
and the phone links people made (an administrator sees and revokes every one; a person his own).

JSON:   GET  /api/access/roles                {roles: [{key, name}], users: [{id, name, roles}],
                                               departments: [{id, name, roles}], me: {user_id, roles}}
        PUT  /api/access/roles {users: {id: [roles]}, departments: {id: [roles]}}   (administrators)
        GET  /api/access/users?q=             (picker: active people by name, as the person sees them)
        GET  /api/access/departments          (picker: the portal's departments)
        GET  /api/access/phone-links          (administrators: all; others: their own)
        DELETE /api/access/phone-links/<id>   (administrators: any; others: their own)
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from b24app import roles as app_roles
from b24app.errors import in_lang, said
from b24app.i18n import lang_of

from .common import json_api, json_error, services

bp = Blueprint("access", __name__)

_settings = json_api(need="settings")
_anyone = json_api()


def _name(u: dict) -> str:
    return " ".join(p for p in (str(u.get("NAME") or "").strip(), str(u.get("LAST_NAME") or "").strip()) if p) \
        or str(u.get("EMAIL") or "") or f"#{u.get('ID')}"


def _users_by_id(client, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in range(0, len(ids), 50):
        for u in client.call("user.get", {"FILTER": {"ID": ids[i:i + 50]}}) or []:
            out[int(u["ID"])] = _name(u)
    return out


def _departments(client) -> dict[int, str]:
    """Every department, paged the way department.get pages (50 a call, ``next``)."""
    out: dict[int, str] = {}
    start = 0
    while start is not None and start < 10_000:
        env = client.call_raw("department.get", {"start": start})
        out.update({int(d["ID"]): str(d.get("NAME") or "") for d in env.get("result") or []})
        start = env.get("next")
    return out


@bp.get("/api/access/roles")
@_settings
def get_roles(sess):
    svc = services()
    doc = app_roles.load(svc.store.kv, sess.member_id)
    client = svc.client(sess.member_id)
    names = _users_by_id(client, sorted(int(k) for k in doc["users"]))
    deps = _departments(client) if doc["departments"] else {}
    lang = lang_of(sess.lang)            # the page's own choice (ua, by, kz read Russian)
    return jsonify({
        "roles": [{"key": r, "name": app_roles.NAMES[lang][r]} for r in app_roles.ASSIGNABLE],
        "users": [{"id": int(k), "name": names.get(int(k), f"#{k}"), "roles": v} for k, v in doc["users"].items()],
        "departments": [{"id": int(k), "name": deps.get(int(k), f"#{k}"), "roles": v}
                        for k, v in doc["departments"].items()],
        "me": {"user_id": sess.user_id, "roles": list(sess.roles)},
    })


@bp.put("/api/access/roles")
@_settings
def put_roles(sess):
    body = request.get_json(silent=True)
    saved = app_roles.save(services().store.kv, sess.member_id, body)
    return jsonify({"saved": saved, "note": "roles apply from the next time a person opens the app"})


@bp.get("/api/access/users")
@_settings
def find_users(sess):
    q = str(request.args.get("q") or "").strip()[:100]
    params: dict = {"FILTER": {"ACTIVE": True}}
    if q:
        params["FILTER"]["FIND"] = q
    raw = services().client(sess.member_id).call_raw("user.get", params) or {}
    rows = list(raw.get("result") or [])[:50]
    total = int(raw.get("total") or len(rows))     # one page of 50: "more" asks the person to type on
    return jsonify({"users": [{"id": int(u["ID"]), "name": _name(u), "position": u.get("WORK_POSITION") or ""}
                              for u in rows], "more": total > len(rows)})


@bp.get("/api/access/departments")
@_settings
def departments(sess):
    deps = _departments(services().client(sess.member_id))
    return jsonify({"departments": [{"id": k, "name": v} for k, v in sorted(deps.items())]})


def _link_out(row: dict) -> dict:
    return {"id": row["link_hash"], "user_id": int(row["user_id"]), "label": row.get("label") or "",
            "created_at": row["created_at"], "last_used_at": row.get("last_used_at"),
            "revoked": row.get("revoked_at") is not None}


@bp.get("/api/access/phone-links")
@_anyone
def phone_links(sess):
    svc = services()
    mine_only = not sess.can("settings")
    rows = svc.store.phone_links.list(sess.member_id, sess.user_id if mine_only else None)
    out = [_link_out(r) for r in rows]
    if not mine_only and rows:
        names = _users_by_id(svc.client(sess.member_id), sorted({int(r["user_id"]) for r in rows}))
        for o in out:
            o["user"] = names.get(o["user_id"], f"#{o['user_id']}")
    return jsonify({"links": out})


@bp.delete("/api/access/phone-links/<link_id>")
@_anyone
def revoke_phone_link(sess, link_id: str):
    svc = services()
    row = svc.store.phone_links.get_by_id(sess.member_id, link_id)
    if row is None or (int(row["user_id"]) != sess.user_id and not sess.can("settings")):
        return json_error(404, "NOT_FOUND", in_lang(said("no such phone link", "такой ссылки для телефона нет"),
                                                    sess.lang))
    svc.store.phone_links.revoke(sess.member_id, link_id)
    svc.store.page_sessions.delete_for_link(sess.member_id, link_id)
    return jsonify({"revoked": True})
