"""Dashboards (CRM_ANALYTICS_MENU) and their JSON / CSV — thin: verify the frame or the page session,
call reports.*, answer.

Page:  POST /placements/dashboards       (frame: verify_frame → page session → the dashboards page; this
                                          static route wins over the generic /placements/<code>)
JSON:  GET  /api/reports/visits?period=week|month|quarter|custom&from=&to=&region=&user=
       GET  /api/reports/jobs?period=&from=&to=&user=
CSV:   GET  /api/reports/visits.csv?table=regions|employees&…   GET /api/reports/jobs.csv?…
       (page session in X-B24App-Session only; UTF-8 with BOM, ``;`` separated)
       POST /api/reports/download {"path": "/api/reports/visits.csv?table=…&from=…"} → {url, expires_in}:
       a one-time URL (60 s, one fetch, acting as the same person) for a link, Excel or Power BI — the
       page session itself never goes into a URL. GET /api/reports/download/<token>: the CSV once, then 401.
Bad input → 400 BAD_REQUEST naming the parameter; a session of a portal without the app → 403.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, Response, g, jsonify, render_template, request

from b24app import session as page_sessions

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


_api = json_api(need="reports")


def _period(sess, a):
    zone = rules.settings_of(services().store.kv, sess.member_id).zone
    return periods.parse(a.get("period"), a.get("from"), a.get("to"), zone)


def _visits(sess, a=None) -> dict:
    a = request.args if a is None else a
    return visits_report(services(), sess.member_id, _period(sess, a), a.get("region"), a.get("user"))


def _jobs(sess, a=None) -> dict:
    a = request.args if a is None else a
    return jobs_report(services(), sess.member_id, _period(sess, a), a.get("user"))


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


def _table(a) -> str:
    table = a.get("table", "regions")
    if table not in ("regions", "employees"):
        raise periods.ReportError(f"table: regions or employees is expected, got {table!r}")
    return table


def _visits_csv(sess, a) -> Response:
    table = _table(a)
    doc = _visits(sess, a)
    p = doc["period"]
    body = csv_export.table_csv(table, doc[table], sess.lang, doc["totals"] if table == "regions" else None)
    return _csv(body, f"visits-{table}-{p['from']}-{p['to']}.csv")


def _jobs_csv(sess, a) -> Response:
    doc = _jobs(sess, a)
    p = doc["period"]
    return _csv(csv_export.table_csv("jobs", doc["workers"], sess.lang, doc["totals"]),
                f"jobs-{p['from']}-{p['to']}.csv")


CSV = {"/api/reports/visits.csv": _visits_csv, "/api/reports/jobs.csv": _jobs_csv}
CSV_ARGS = ("table", "period", "from", "to", "region", "user")


@bp.get("/api/reports/visits.csv")
@_api
def visits_csv(sess):
    return _visits_csv(sess, request.args)


@bp.get("/api/reports/jobs.csv")
@_api
def jobs_csv(sess):
    return _jobs_csv(sess, request.args)


@bp.post("/api/reports/download")
@_api
def download_link(sess):
    """One CSV the page can show as a link: the same path and filters it would fetch, checked now (a bad
    filter is 400 here, not a broken link later) and kept behind a one-time token."""
    body = request.get_json(silent=True)
    path = body.get("path") if isinstance(body, dict) else None
    if not isinstance(path, str) or len(path) > 2000:
        raise periods.ReportError('path: a CSV path is expected, e.g. {"path": "/api/reports/jobs.csv?period=month"}')
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or parts.path not in CSV:
        raise periods.ReportError(f"path: one of {', '.join(CSV)} is expected")
    args: dict[str, str] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k not in CSV_ARGS or len(v) > 200:
            raise periods.ReportError(f"path: {k!r} is not a filter of this table (or its value is too long)")
        args[k] = v
    if parts.path == "/api/reports/visits.csv":
        _table(args)
    _period(sess, args)
    token = page_sessions.issue_download(services().store, sess, {"path": parts.path, "args": args})
    url = f"{services().settings.public_url.rstrip('/')}/api/reports/download/{token}"
    return jsonify({"url": url, "expires_in": page_sessions.DOWNLOAD_MAX_AGE})


def _download_session(store):
    sess, spec = page_sessions.take_download(store, request.view_args.get("token"))
    g.b24_download = spec
    return sess


@bp.get("/api/reports/download/<token>")
@json_api(need="reports", session=_download_session)
def download(sess, token: str):
    """The file behind a one-time token: spent on the first fetch, acting as the person who asked."""
    spec = g.b24_download
    render = CSV.get(spec.get("path"))
    if render is None:
        raise periods.ReportError("this download link names no report")
    return render(sess, spec.get("args") or {})
