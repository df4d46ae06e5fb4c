"""The worker's phone — thin: verify the frame / the phone link / the page session, call field.*, answer.

Pages:  POST /placements/field-day    (LEFT_MENU "Мой день")
        POST /placements/field-task   (TASK_VIEW_TAB: opened from the worker's Bitrix24 task — the job bound to
                                       the task, UF_CRM_TASK D_<id>, is shown first)
        GET  /m/<link>/day            (the phone link a person made for himself; handlers.visits.open_phone)
JSON:   GET  /api/field/day?date=[&worker=]   his own day; another worker's takes jobs.all (dispatcher)
        POST /api/field/actions {id, action, kind, item, at?, lat?, lon?, comment?, file?: {name, content}}
             → 200 {state: applied|replayed, job: {status, minutes}}; 400 bad input, 403 another's job,
             409 the id reused for another action / being applied now, 413 file too large
"""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from b24app.errors import B24Error
from b24app.i18n import lang_of
from field import actions as field_actions
from field import day as field_day
from field.strings import strings

from . import inputs
from .common import current_session, frame_page, inline_json, json_api, require, services
from .visits import open_phone

bp = Blueprint("field", __name__)


def _render(svc, sess, token: str, frame: bool, focus: str = ""):
    lang = lang_of(sess.lang)
    config = {"session": token, "lang": lang, "s": strings(lang), "user_id": sess.user_id, "frame": frame,
              "focus": focus, "can_team": sess.can("jobs.all")}
    return render_template("field/day.html", s=strings(lang), lang=lang, config=inline_json(config),
                           bx24_js_url=svc.settings.bx24_js_url if frame else None)


def _task_focus(svc, ctx) -> str:
    """TASK_VIEW_TAB posts PLACEMENT_OPTIONS {taskId, URI}: the job is the deal the task is bound to, read with
    the person's own token (a task he cannot see shows his day without a focus)."""
    options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
    task_id = str(options.get("taskId") or "")
    if not task_id.isdigit() or ctx.user_id is None:
        return ""
    try:
        task = svc.acting_as(ctx.member_id, ctx.user_id).client(ctx.member_id).call(
            "tasks.task.get", {"taskId": int(task_id), "select": ["ID", "UF_CRM_TASK"]})
    except B24Error:
        return ""
    bound = (task or {}).get("task", {}).get("ufCrmTask") or []
    deal = next((b[2:] for b in bound if str(b).startswith("D_") and str(b)[2:].isdigit()), "")
    return f"job:{deal}" if deal else ""


@bp.post("/placements/field-day")
def day_page():
    def render(svc, ctx, lang, token):
        return _render(svc, current_session(), token, True)
    return frame_page(render)


@bp.post("/placements/field-task")
def task_page():
    def render(svc, ctx, lang, token):
        return _render(svc, current_session(), token, True, _task_focus(svc, ctx))
    return frame_page(render)


@bp.get("/m/<link>/day")
def phone_day(link: str):
    opened, refusal = open_phone(link)
    if refusal is not None:
        return refusal
    sess, token = opened
    return _render(services(), sess, token, False)


_own = json_api(need="jobs.own")


@bp.get("/api/field/day")
@_own
def day(sess):
    worker = inputs.optional_int_arg("worker")
    if worker is not None and worker != sess.user_id:
        require("jobs.all")
    return jsonify(field_day.day(services(), sess.member_id, worker or sess.user_id, inputs.date_arg("date")))


@bp.post("/api/field/actions")
@_own
def act(sess):
    body = inputs.json_object("a JSON object {id, action, kind, item, …} is expected")
    return jsonify(field_actions.apply(services(), sess.member_id, sess.user_id, body, lang_of(sess.lang)))
