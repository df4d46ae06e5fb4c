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

from b24app import errors
from b24app.errors import said
from reports import cache as report_cache, csv_export, feed, period as periods, plan as report_plan, plans
from reports.dashboard import dashboard
from reports.jobs_report import jobs_report
from reports.strings import COLUMNS, page_strings, strings
from reports.visits_report import visits_report
from visits import rules

from .common import app_services, current_session, frame_page, inline_json, json_api, json_error, services

bp = Blueprint("reports", __name__)


@bp.post("/placements/dashboards")
def dashboards_page():
    def render(svc, ctx, lang, token):
        sess = current_session()
        can_plans = bool(sess and sess.can("settings"))
        config = {"session": token, "lang": lang, "s": page_strings(lang), "columns": COLUMNS,
                  "tz": rules.settings_of(svc.store.kv, ctx.member_id).tz, "can_plans": can_plans,
                  "feed_url": f"{svc.settings.public_url.rstrip('/')}/api/reports/feed"}
        return render_template("reports/dashboards.html", s=strings(lang), lang=lang, config=inline_json(config),
                               bx24_js_url=svc.settings.bx24_js_url, can_plans=can_plans)
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
        raise periods.ReportError(said(f"table: regions or employees is expected, got {table!r}",
                                       f"table: нужна regions или employees, а не {table!r}"))
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
        example = '{"path": "/api/reports/jobs.csv?period=month"}'
        raise periods.ReportError(said(f"path: a CSV path is expected, e.g. {example}",
                                       f"path: нужен путь к CSV, например {example}"))
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or parts.path not in CSV:
        raise periods.ReportError(said(f"path: one of {', '.join(CSV)} is expected",
                                       f"path: нужен один из путей {', '.join(CSV)}"))
    args: dict[str, str] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k not in CSV_ARGS or len(v) > 200:
            raise periods.ReportError(said(
                f"path: {k!r} is not a filter of this table (or its value is too long)",
                f"path: {k!r} — не фильтр этой таблицы (или слишком длинное значение)"))
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
        raise periods.ReportError(said("this download link names no report", "эта ссылка не ведёт ни к какому отчёту"))
    return render(sess, spec.get("args") or {})


# --- the cached dashboards, their exports, plans and the feed (issue 14) ------------------------------------
TABLES = {"regions": ("regions", "totals"), "employees": ("employees", None), "trend": ("trend", None),
          "types": ("types", None), "sales": ("sales", "sales_totals"), "jobs": ("jobs", "jobs_totals")}


def _dashboard(sess, a=None, with_charts: bool = True) -> dict:
    a = request.args if a is None else a
    return dashboard(services(), sess.member_id, _period(sess, a), a.get("region"), a.get("user"), lang=sess.lang,
                     with_charts=with_charts)


def _export_table(a) -> str:
    table = a.get("table", "regions")
    if table not in TABLES:
        raise periods.ReportError(said(f"table: one of {', '.join(TABLES)} is expected, got {table!r}",
                                       f"table: нужна одна из таблиц {', '.join(TABLES)}, а не {table!r}"))
    return table


def _export(sess, a, fmt: str) -> Response:
    table = _export_table(a)
    doc = _dashboard(sess, a, with_charts=False)
    rows_key, totals_key = TABLES[table]
    p = doc["period"]
    name = f"{table}-{p['from']}-{p['to']}.{fmt}"
    if fmt == "csv":
        return _csv(csv_export.table_csv(table, doc[rows_key], sess.lang, doc[totals_key] if totals_key else None),
                    name)
    body = csv_export.table_xlsx(table, doc[rows_key], sess.lang, doc[totals_key] if totals_key else None)
    return Response(body, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _export_csv(sess, a) -> Response:
    return _export(sess, a, "csv")


def _export_xlsx(sess, a) -> Response:
    return _export(sess, a, "xlsx")


CSV.update({"/api/reports/export.csv": _export_csv, "/api/reports/export.xlsx": _export_xlsx})


@bp.get("/api/reports/dashboard")
@_api
def dashboard_json(sess):
    return jsonify(_jsonable(_dashboard(sess)))


def _jsonable(doc: dict) -> dict:
    charts = doc.pop("charts", None)
    out = feed._plain(doc)
    out["charts"] = charts
    return out


@bp.get("/api/reports/export.csv")
@_api
def export_csv(sess):
    return _export_csv(sess, request.args)


@bp.get("/api/reports/export.xlsx")
@_api
def export_xlsx(sess):
    return _export_xlsx(sess, request.args)


# plans per employee and month: read by whoever sees the dashboards, written by an administrator
@bp.get("/api/reports/plans")
@_api
def plans_get(sess):
    a = request.args
    first = plans.month_of(a.get("from"), "from") if a.get("from") else None
    last = plans.month_of(a.get("to"), "to") if a.get("to") else None
    rows = plans.load(services().store.engine, sess.member_id, first, last)
    names = report_cache.names(services(), sess.member_id, {r["user_id"] for r in rows})
    return jsonify({"plans": [{**r, "name": names.get(str(r["user_id"]), f"#{r['user_id']}")} for r in rows],
                    "fallback": report_plan.plans_of(services().store.kv, sess.member_id)})


@bp.post("/api/reports/plans")
@json_api(need="settings")
def plans_put(sess):
    rows = plans.validate(request.get_json(silent=True))
    return jsonify(plans.save(services().store.engine, sess.member_id, rows))


@bp.post("/api/reports/plans.csv")
@json_api(need="settings")
def plans_import(sess):
    """The CSV file as the request body (``employee;month;visits``): every line checked and every person
    found on the portal (the administrator's own token) before one row is written."""
    lines = plans.parse_csv(request.get_data(cache=False) or b"")
    rows = plans.resolve(services().client(sess.member_id), lines)
    result = plans.save(services().store.engine, sess.member_id, rows)
    return jsonify({**result, "lines": len(rows)})


# the feed's token: shown once, kept hashed, rotated or revoked by an administrator
@bp.get("/api/reports/feed-token")
@json_api(need="settings")
def feed_token_info(sess):
    return jsonify(feed.info(services().store.engine, sess.member_id))


@bp.post("/api/reports/feed-token")
@json_api(need="settings")
def feed_token_rotate(sess):
    token = feed.rotate(services().store.engine, sess.member_id, sess.user_id)
    url = f"{services().settings.public_url.rstrip('/')}/api/reports/feed"
    return jsonify({"token": token, "url": url, **feed.info(services().store.engine, sess.member_id)})


@bp.delete("/api/reports/feed-token")
@json_api(need="settings")
def feed_token_revoke(sess):
    return jsonify({"revoked": feed.revoke(services().store.engine, sess.member_id)})


@bp.get("/api/reports/feed")
def feed_json():
    """For Power BI / Excel: ``Authorization: Bearer <token>``; the same filters as the dashboards."""
    svc = app_services()
    lang = request.args.get("lang") if request.args.get("lang") in ("ru", "en") else "en"
    try:
        member_id = feed.member_of(svc.store.engine, request.headers.get("Authorization"))
    except feed.FeedRefused as exc:
        return json_error(401, "FEED_TOKEN", errors.text_of(exc, lang))
    portal = svc.store.portals.get(member_id)
    if portal is None or portal.status not in ("installed", "needs_reinstall"):
        return json_error(403, "PORTAL_NOT_INSTALLED", errors.in_lang(
            said("the app is not installed on this portal", "приложение не установлено на этом портале"), lang))
    a = request.args
    try:
        zone = rules.settings_of(svc.store.kv, member_id).zone
        period = periods.parse(a.get("period"), a.get("from"), a.get("to"), zone)
        doc = dashboard(svc, member_id, period, a.get("region"), a.get("user"), lang=lang, with_charts=False)
    except periods.ReportError as exc:
        return json_error(400, "BAD_REQUEST", errors.text_of(exc, lang))
    resp = jsonify(feed.document(doc, portal.domain))
    resp.headers["Cache-Control"] = "no-store"
    return resp
