"""The rules file of a portal, for its administrators (app role "settings"): read, export as a file, replace
(JSON body or an uploaded file's text), install a shipped preset. Nothing is written unless the whole
document validates; a refusal is 400 BAD_SETTINGS naming the path and, for a file, the line.

    POST /placements/rules              the settings page (LEFT_MENU "Deal rules"): rules on/off, people by name,
                                        the preset with its structure, the file exported and imported
    GET  /api/rules                     {document, presets, people {id: name}, nps {review_url}}
    PUT  /api/rules/nps                 {"review_url": "https://…"} — where all fives are invited to write a review
    GET  /api/rules/export              the document as a file (rules.json)
    PUT  /api/rules                     body = the document (JSON)
    POST /api/rules/import              body = a file's text (any content type)
    POST /api/rules/presets/<name>      {"variables": {...}, "install_structure": bool} → the preset's rules replace
                                        the document; with install_structure its pipelines, stages, lead
                                        statuses and deal fields are made on the portal first (one step)
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, render_template, request

from b24app import admin_strings
from b24app.errors import said
from rules import model, nps, presets

from .common import app_services, current_session, frame_page, inline_json, json_api, services
from .errors import BadInput

bp = Blueprint("rules", __name__)
_admin = json_api(need="settings")
MAX_BYTES = 1_000_000


def _store(sess, doc: model.Document):
    model.save(services().store.kv, sess.member_id, doc)
    return jsonify({"ok": True, "rules": len(doc.rules), "document": doc.raw})


UI = {
    "ru": {"title": "Правила сделок", "intro": "Напоминания, задачи, номера заказов, запреты переходов и NPS. "
                                               "Правило срабатывает один раз на каждое изменение.",
           "preset": "Готовый набор", "install": "Установить с воронками и полями",
           "installed": "Установлено правил: {n}",
           "rules": "Правила", "on": "Вкл.", "rule": "Правило", "when": "Когда", "who": "Кому / кто",
           "save": "Сохранить", "saved": "Сохранено.", "saving": "Сохраняем…", "file": "Файл правил",
           "export": "Скачать файл", "import": "Загрузить файл", "imported": "Файл принят: правил {n}.",
           "nps": "Отзыв после NPS", "review_url": "Ссылка для отзыва (все пятёрки)", "none": "нет правил",
           "people_hint": "Найдите сотрудника по имени", "replace": "заменить",
           "t.stage_entered": "вход в стадию {x}", "t.field_changed": "поле {x} заполнено/изменено",
           "t.time_in_stage": "{x}: дольше срока", "t.date_reached": "наступила дата в поле {x}",
           "t.stage_moved_back": "возврат раньше стадии {x}", "t.schedule": "по расписанию {x}",
           "e.lead": "лид", "e.deal": "сделка"},
    "en": {"title": "Deal rules", "intro": "Reminders, tasks, order numbers, stage guards and NPS. A rule acts once "
                                           "per change.",
           "preset": "Ready-made set", "install": "Install with its pipelines and fields",
           "installed": "Rules installed: {n}",
           "rules": "Rules", "on": "On", "rule": "Rule", "when": "When", "who": "To / by whom",
           "save": "Save", "saved": "Saved.", "saving": "Saving…", "file": "Rules file",
           "export": "Download the file", "import": "Upload a file", "imported": "File accepted: {n} rules.",
           "nps": "Review after NPS", "review_url": "Review link (all fives)", "none": "no rules",
           "people_hint": "Find a person by name", "replace": "replace",
           "t.stage_entered": "enters stage {x}", "t.field_changed": "field {x} set/changed",
           "t.time_in_stage": "{x}: over the time", "t.date_reached": "the date in {x} comes",
           "t.stage_moved_back": "moved back before {x}", "t.schedule": "on schedule {x}",
           "e.lead": "lead", "e.deal": "deal"},
}
PICKER_KEYS = ("roles.find_placeholder", "roles.searching", "roles.no_match", "picker.more", "dispatch.remove",
               "not_allowed", "error")


def ui(lang: str) -> dict:
    words = admin_strings.strings(lang)
    return {**{k: words[k] for k in PICKER_KEYS if k in words}, **UI["en" if lang == "en" else "ru"]}


@bp.post("/placements/rules")
def rules_page():
    """LEFT_MENU "Deal rules": the administrator's page (its API answers administrators only)."""
    def render(svc, ctx, lang, token):
        sess = current_session()
        config = {"session": token, "lang": lang, "s": ui(lang), "can": {"settings": sess.can("settings")}}
        return render_template("rules/settings.html", s=ui(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


def _user_ids(doc: dict) -> list[int]:
    out: set[int] = set()
    for r in doc.get("rules") or []:
        for a in r.get("actions") or []:
            for spec in [*a.get("to", []), a.get("responsible"), *a.get("auditors", []), *a.get("accomplices", [])]:
                if isinstance(spec, dict) and "user" in spec:
                    out.add(int(spec["user"]))
    return sorted(out)


def _people(sess, ids: list[int]) -> dict[str, str]:
    """Names of the people the rules name, read as the administrator sees them (one user.get)."""
    if not ids:
        return {}
    rows = services().client(sess.member_id).call("user.get", {"FILTER": {"ID": ids}}) or []
    return {str(u["ID"]): " ".join(x for x in (u.get("NAME"), u.get("LAST_NAME")) if x) or str(u["ID"])
            for u in rows}


@bp.get("/api/rules")
@_admin
def get_rules(sess):
    svc = services()
    doc = model.load(svc.store.kv, sess.member_id)
    conf = svc.store.kv.get(sess.member_id, nps.SETTINGS_KEY) or {}
    return jsonify({"document": doc.raw, "presets": presets.catalogue(),
                    "people": _people(sess, _user_ids(doc.raw)), "names": _names(sess, doc.raw),
                    "nps": {"review_url": conf.get("review_url") or ""}})


def _names(sess, doc: dict) -> dict[str, str]:
    """Stage and field names for the page (it shows «Ожидание оплаты», not C2:PAYMENT), read as the
    administrator sees them: the status lists and the deal/lead fields, one batch."""
    if not doc.get("rules"):
        return {}
    client = services().client(sess.member_id)
    got = client.batch_many([("crm.status.list", {}), ("crm.deal.userfield.list", {}),
                             ("crm.lead.userfield.list", {})])
    out: dict[str, str] = {}
    if got[0].ok:
        out.update({str(r["STATUS_ID"]): str(r.get("NAME") or r["STATUS_ID"]) for r in got[0].result or []
                    if str(r.get("ENTITY_ID", "")).startswith(("DEAL_STAGE", "STATUS"))})
    for r in got[1:]:
        if r.ok:
            for uf in r.result or []:
                label = uf.get("EDIT_FORM_LABEL")
                if isinstance(label, dict):
                    label = label.get(sess.lang) or label.get("ru") or label.get("en")
                name = label
                if name:
                    out[str(uf["FIELD_NAME"])] = str(name)
    return out


_HTTPS = re.compile(r"^https://[^\s/$.?#][^\s]{0,490}$")


@bp.put("/api/rules/nps")
@_admin
def put_nps(sess):
    body = request.get_json(silent=True)
    url = str((body or {}).get("review_url") or "").strip() if isinstance(body, dict) else None
    if url is None or (url and not _HTTPS.match(url)):
        raise BadInput(said("review_url: an https:// link is expected", "review_url: нужна ссылка https://"))
    svc = services()
    conf = svc.store.kv.get(sess.member_id, nps.SETTINGS_KEY) or {}
    svc.store.kv.set(sess.member_id, nps.SETTINGS_KEY, {**conf, "review_url": url})
    return jsonify({"ok": True, "review_url": url})


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
