"""Dashboards (CRM_ANALYTICS_MENU) and their JSON / CSV — thin: verify the frame or the page session,
call reports.*, answer.

Page:  POST /placements/dashboards       (frame: verify_frame → page session → the dashboards page; this
                                          static route wins over the generic /placements/<code>)
JSON:  GET  /api/reports/visits?period=week|month|quarter|custom&from=&to=&region=&user=
       GET  /api/reports/jobs?period=&from=&to=&user=
CSV:   GET  /api/reports/visits.csv?table=regions|employees&…   GET /api/reports/jobs.csv?…
       (session in X-B24App-Session or ?session=; UTF-8 with BOM, ``;`` separated)
Bad input → 400 BAD_REQUEST naming the parameter; a session of a portal without the app → 403.
"""
from __future__ import annotations


from flask import Blueprint, Response, jsonify, render_template, request

from reports import csv_export, period as periods
from reports.jobs_report import jobs_report
from reports.strings import COLUMNS, strings
from reports.visits_report import visits_report
from visits import rules

from .common import frame_page, inline_json, json_api, services

bp = Blueprint("reports", __name__)


@bp.post("/placements/dashboards")
def dashboards_page():
    def render(svc, ctx, lang, token):
        config = {"session": token, "lang": lang, "s": strings(lang), "columns": COLUMNS,
                  "tz": rules.settings_of(svc.store.kv, ctx.member_id).tz}
        return render_template("reports/dashboards.html", s=strings(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url)
    return frame_page(render)


_api = json_api(periods.ReportError, need="reports")


def _period(sess):
    a = request.args
    zone = rules.settings_of(services().store.kv, sess.member_id).zone
    return periods.parse(a.get("period"), a.get("from"), a.get("to"), zone)


def _visits(sess) -> dict:
    return visits_report(services(), sess.member_id, _period(sess), request.args.get("region"),
                         request.args.get("user"))


def _jobs(sess) -> dict:
    return jobs_report(services(), sess.member_id, _period(sess), request.args.get("user"))


def _csv(body: bytes, name: str) -> Response:
    return Response(body, mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store"})


@bp.get("/api/reports/visits")
@_api
def visits_json(sess):
    return jsonify(_visits(sess))


@bp.get("/api/reports/jobs")
@_api
def jobs_json(sess):
    return jsonify(_jobs(sess))


@bp.get("/api/reports/visits.csv")
@_api
def visits_csv(sess):
    table = request.args.get("table", "regions")
    if table not in ("regions", "employees"):
        raise periods.ReportError(f"table: regions or employees is expected, got {table!r}")
    doc = _visits(sess)
    p = doc["period"]
    body = csv_export.table_csv(table, doc[table], sess.lang, doc["totals"] if table == "regions" else None)
    return _csv(body, f"visits-{table}-{p['from']}-{p['to']}.csv")


@bp.get("/api/reports/jobs.csv")
@_api
def jobs_csv(sess):
    doc = _jobs(sess)
    p = doc["period"]
    return _csv(csv_export.table_csv("jobs", doc["workers"], sess.lang, doc["totals"]),
                f"jobs-{p['from']}-{p['to']}.csv")
