"""The rules file of a portal, for its administrators (app role "settings"): read, export as a file, replace
(JSON body or an uploaded file's text), install a shipped preset. Nothing is written unless the whole
document validates; a refusal is 400 BAD_SETTINGS naming the path and, for a file, the line.

    GET  /api/rules                     {document, presets}
    GET  /api/rules/export              the document as a file (rules.json)
    PUT  /api/rules                     body = the document (JSON)
    POST /api/rules/import              body = a file's text (any content type)
    POST /api/rules/presets/<name>      {"variables": {...}, "install_structure": bool} → the preset's rules replace
                                        the document; with install_structure its pipelines, stages, lead
                                        statuses and deal fields are made on the portal first (one step)
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from b24app.errors import said
from rules import model, presets

from .common import app_services, json_api, services
from .errors import BadInput

bp = Blueprint("rules", __name__)
_admin = json_api(need="settings")
MAX_BYTES = 1_000_000


def _store(sess, doc: model.Document):
    model.save(services().store.kv, sess.member_id, doc)
    return jsonify({"ok": True, "rules": len(doc.rules), "document": doc.raw})


@bp.get("/api/rules")
@_admin
def get_rules(sess):
    doc = model.load(services().store.kv, sess.member_id)
    return jsonify({"document": doc.raw, "presets": presets.catalogue()})


@bp.get("/api/rules/export")
@_admin
def export_rules(sess):
    doc = model.load(services().store.kv, sess.member_id)
    return Response(model.dump(doc.raw), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="rules.json"'})


@bp.put("/api/rules")
@_admin
def put_rules(sess):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput(said("body: a JSON object (the rules document) is expected",
                            "тело запроса: ожидается объект JSON (документ правил)"))
    return _store(sess, model.validate(body))


@bp.post("/api/rules/import")
@_admin
def import_rules(sess):
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BYTES:
        raise BadInput(said(f"body: the file is larger than {MAX_BYTES} bytes",
                            f"файл больше {MAX_BYTES} байт"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(said("body: the file is not UTF-8 text", "файл не в кодировке UTF-8")) from None
    return _store(sess, model.parse_text(text))


@bp.post("/api/rules/presets/<name>")
@_admin
def install_preset(sess, name: str):
    body = request.get_json(silent=True) or {}
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise BadInput(said("variables: an object {name: value} is expected",
                            "variables: ожидается объект {имя: значение}"))
    if body.get("install_structure"):
        # the pipelines, stages and fields come first (the app's own work: an admin asked for it)
        doc = presets.install(app_services(), sess.member_id, name, variables, with_structure=True)
        return jsonify({"ok": True, "rules": len(doc.rules), "document": doc.raw})
    return _store(sess, presets.build(name, variables))
