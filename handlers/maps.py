"""Orders map and dispatch edges — thin: verify / check the page session, call maps.*, answer JSON.

Pages:  POST /placements/orders-map   (frame: verify_frame → the map page; /placements/dispatcher is the
        intake screen in handlers/desk.py)
JSON:   GET  /api/maps/jobs?date=&pipeline=&stage=&worker=&since=
        GET  /api/maps/candidates/<deal_id>?date=
        POST /api/maps/assign {deal_id, worker_id[, start][, override]}  (also reassign / reschedule: event and
             task move; never in the past / outside hours; a busy worker only with override: true, noted on the deal)
        GET  /api/maps/worker-day?worker=&date=
        GET  /api/maps/slots/<deal_id>?from=&days=   (dates × workers cells + best slots)
        GET  /api/maps/swap?deal=&to=[&date=]        (both workers' days before / after)
        GET  /api/maps/route?worker=&date=
        GET  /api/maps/unplaced                 (addresses that could not be geocoded)
        POST /api/maps/pin {entity, id, lat, lon} (a manual pin; geocoding never overwrites it)
        GET/PUT /api/maps/settings              (admin: hours, per-worker hours, team, homes; 400 on bad input)
        GET  /api/maps/job-stats?from=&to=      (per worker: jobs, on-site and travel minutes)
"""
from __future__ import annotations

import gzip
from datetime import datetime

from flask import Blueprint, jsonify, render_template, request

from b24app.errors import in_lang, said

from b24app.i18n import lang_of
from maps import assign as dispatch
from maps import feed, geocoding, service, stats
from maps import swap as swaps
from maps import unplaced as unplaced_list
from maps.strings import strings

from . import inputs
from .common import current_session, frame_page, inline_json, json_api, json_error, require, services
from .errors import BadInput

bp = Blueprint("maps", __name__)
POLL_SECONDS = 5


def _frame(placement_code: str):
    def render(svc, ctx, lang, token):
        options = ctx.placement_options if isinstance(ctx.placement_options, dict) else {}
        config = {"session": token, "lang": lang, "placement": ctx.placement, "mode": placement_code,
                  "deal_id": str(options.get("ID") or "") if ctx.placement == "CRM_DEAL_DETAIL_TAB" else "",
                  "tiles": svc.settings.tiles_url, "poll": POLL_SECONDS,
                  "s": strings(lang), "stages": feed.stage_names(lang), "user_id": ctx.user_id,
                  "can": {a: current_session().can(a) for a in ("dispatch", "jobs.all", "settings")}}
        return render_template("maps/orders_map.html", s=strings(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


@bp.post("/placements/orders-map")
def orders_map_page():
    return _frame("orders-map")


_api = json_api(need="jobs.own")
_dispatch = json_api(need="dispatch")
_admin = json_api(need="settings")


def _day_worker(sess) -> int:
    """``?worker=``: a field worker sees his own day and route; anyone else's takes a dispatching role."""
    worker_id = inputs.int_arg("worker")
    if worker_id != sess.user_id:
        require("jobs.all")
    return worker_id


@bp.get("/api/maps/jobs")
@_api
def jobs(sess):
    svc, a = services(), request.args
    since = inputs.optional_int_arg("since")
    if since is not None and since == service.poll_version(svc, sess.member_id):
        return jsonify({"version": since, "unchanged": True})
    version, current = service.jobs(svc, sess.member_id)
    if not sess.can("jobs.all"):
        current = service.own_jobs(svc, sess.member_id, current, sess.user_id)
    picked = feed.filter_jobs(current, day=inputs.date_arg("date"), pipeline=a.get("pipeline", ""),
                              stage=a.get("stage", ""), worker=a.get("worker", ""))
    return _compressed(jsonify(feed.build(picked, version)))


def _compressed(resp):
    """10,000 jobs are ~2 MB of JSON and ~0.3 MB gzipped: worth 20 ms of CPU inside a portal's iframe."""
    if "gzip" not in request.headers.get("Accept-Encoding", "") or resp.content_length is None \
            or resp.content_length < 16_384:
        return resp
    resp.set_data(gzip.compress(resp.get_data(), compresslevel=5))
    resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


@bp.get("/api/maps/candidates/<int:deal_id>")
@_dispatch
def candidates(sess, deal_id: int):
    return jsonify(dispatch.candidates(services(), sess.member_id, deal_id, lang_of(sess.lang),
                                       inputs.date_arg("date")))


@bp.post("/api/maps/assign")
@_dispatch
def assign(sess):
    deal_id, worker_id, start, override = inputs.body_values(
        "JSON body {deal_id, worker_id[, start: YYYY-MM-DDTHH:MM][, override: true]} expected",
        lambda b: (int(b["deal_id"]), int(b["worker_id"]),
                   datetime.fromisoformat(str(b["start"])) if b.get("start") else None,
                   _flag(b.get("override", False))))
    return jsonify(dispatch.assign(services(), sess.member_id, deal_id, worker_id, lang_of(sess.lang),
                                   sess.user_id, start=start, override=override))


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("override must be true or false")
    return value


@bp.get("/api/maps/worker-day")
@_api
def worker_day(sess):
    return jsonify(dispatch.worker_day(services(), sess.member_id, _day_worker(sess), inputs.date_arg("date")))


@bp.get("/api/maps/slots/<int:deal_id>")
@_dispatch
def slots(sess, deal_id: int):
    return jsonify(dispatch.slots(services(), sess.member_id, deal_id, lang_of(sess.lang),
                                  inputs.int_arg("days", 7), inputs.date_arg("from")))


@bp.get("/api/maps/swap")
@_dispatch
def swap(sess):
    return jsonify(swaps.preview(services(), sess.member_id, inputs.int_arg("deal"), inputs.int_arg("to"),
                                 inputs.date_arg("date")))


@bp.get("/api/maps/route")
@_api
def route(sess):
    return jsonify(dispatch.route(services(), sess.member_id, _day_worker(sess), inputs.date_arg("date")))


@bp.get("/api/maps/unplaced")
@_dispatch
def unplaced(sess):
    return jsonify(unplaced_list.listing(services(), sess.member_id))


@bp.post("/api/maps/pin")
@_dispatch
def pin(sess):
    entity, entity_id, lat, lon = inputs.body_values(
        "JSON body {entity, id, lat, lon} expected",
        lambda b: (str(b.get("entity") or "deal"), int(b["id"]), float(b["lat"]), float(b["lon"])))
    if entity not in ("deal", "company") or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadInput(said("entity deal|company and lat/lon in range expected",
                            "нужны entity deal|company и координаты lat/lon в допустимых пределах"))
    r = geocoding.pin_record(services(), sess.member_id, entity, entity_id, lat, lon)
    service.changed(services(), sess.member_id, [entity_id] if entity == "deal" else ())
    return jsonify({"entity": entity, "id": entity_id, "status": r.status, "lat": r.lat, "lon": r.lon})


# --- settings (portal administrator) and job statistics ------------------------------------------------
@bp.get("/api/maps/settings")
@_admin
def get_settings(sess):
    """The stored document and the hours every worker gets from it (the effective values)."""
    return jsonify(service.settings_view(services(), sess.member_id))


@bp.put("/api/maps/settings")
@_admin
def put_settings(sess):
    body = request.get_json(silent=True)
    if body is None:
        return json_error(400, "BAD_BODY", in_lang(said("a JSON object with the map settings expected",
                                                        "нужен JSON-объект с настройками карты"), sess.lang))
    svc = services()                                # SettingsError: 400 BAD_SETTINGS, nothing written
    service.save_settings(svc, sess.member_id, body, geocode=geocoding.point_of(svc, sess.member_id))
    return jsonify(service.settings_view(services(), sess.member_id))


@bp.get("/api/maps/job-stats")
@json_api(need="jobs.all")
def job_stats(sess):
    """Per worker over [from, to] (portal dates): jobs finished, on-site and travel minutes."""
    return jsonify(stats.job_stats(services(), sess.member_id, inputs.date_arg("from"), inputs.date_arg("to")))
