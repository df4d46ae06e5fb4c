"""The portal's own pages (reference §1.2, §3): a Bitrix24-like shell with a left menu, the app page
that POSTs the frame form into an iframe (installer until installFinish, then the app), CRM cards with
DETAIL_TAB placements, and BX24.js at ``/api/v1/``. The parent page answers the frame's postMessage
requests (init data, installFinish, refreshAuth, openPath, resize, setTitle)."""
from __future__ import annotations

import json
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from .frames import frame_data, with_query

_env = Environment(loader=PackageLoader("b24sandbox", "templates"), autoescape=select_autoescape())


def _f(obj, *names, default=None):
    """Field of a dict or an object, first name that exists (the placement table's shape is H2's)."""
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return default


def placements(portal, code: str | None = None) -> list[dict]:
    """Bound placements of installed apps (widgets are invisible until installFinish)."""
    table = getattr(portal.db, "placements", None) or []
    rows: list[tuple[str | None, object]] = []
    if isinstance(table, dict):                 # client_id -> [binding] (or id -> binding)
        for key, value in table.items():
            rows += [(key, r) for r in value] if isinstance(value, list) else [(None, value)]
    else:
        rows = [(None, r) for r in table]
    out = []
    for i, (owner, row) in enumerate(rows):
        client_id = _f(row, "client_id", "app", "APP_ID", "clientId", default=owner)
        inst = portal.installs.get(client_id)
        placement = str(_f(row, "placement", "PLACEMENT", default="")).upper()
        if inst is None or not inst.installed or (code and placement != code):
            continue
        out.append({"id": _f(row, "id", "ID", default=i + 1), "client_id": client_id, "placement": placement,
                    "handler": _f(row, "handler", "HANDLER", default=""),
                    "title": _f(row, "title", "TITLE", default="") or client_id})
    return out


def _render(name: str, portal, status: int = 200, **ctx) -> Response:
    apps = [(cid, portal.cloud.apps.get(cid)) for cid, _ in portal.installs.items()]
    html = _env.get_template(name).render(portal=portal, apps=apps, left_menu=placements(portal, "LEFT_MENU"), **ctx)
    return Response(html, status=status, mimetype="text/html")


def _user(request: Request) -> int:
    return int(request.args.get("user", "1") or 1)


def _frame(portal, client_id: str, user_id: int, url: str, placement="DEFAULT", options=None, lang=None) -> dict:
    inst = portal.installs[client_id]
    query, form = frame_data(portal, client_id, user_id, lang or inst.lang, placement, options)
    data = {**query, **form, "IS_ADMIN": portal.is_admin(user_id)}
    return {"action": with_query(url, query), "form": form, "data": data, "client_id": client_id, "user": user_id}


def index(portal, request):
    return _render("portal.html", portal, title="Bitrix24 sandbox", frame=None)


def app_page(portal, request, client_id):
    app = portal.cloud.apps.get(client_id)
    inst = portal.installs.get(client_id)
    if app is None or inst is None:
        return _render("portal.html", portal, status=404, title="Application not found", frame=None,
                       status_note=client_id)
    url = app.handler_url if inst.installed else app.install_url
    code = "DEFAULT"
    options = {k: v for k, v in request.args.items() if k not in ("user", "placement", "IFRAME", "IFRAME_TYPE")}
    item = next((p for p in placements(portal) if str(p["id"]) == request.args.get("placement")), None)
    if item is not None and item["client_id"] == client_id:          # a LEFT_MENU (or other) placement item
        url, code = item["handler"], item["placement"]
    frame = _frame(portal, client_id, _user(request), url, code, options or None)
    return _render("app.html", portal, title=app.code or client_id, frame=frame, frame_json=json.dumps(frame),
                   installed=inst.installed)


def call_card(portal, request, call_id):
    """The call card of a ringing or running call (CALL_CARD placement): the app's frame, and
    ``BX24.placement.call('getStatus')`` answered from the call (methods/telephony.py)."""
    from .methods.telephony import call_status

    status = call_status(portal, call_id)
    item = next((p for p in placements(portal, "CALL_CARD")
                 if not request.args.get("placement") or str(p["id"]) == request.args.get("placement")), None)
    if not status or item is None:
        return _render("portal.html", portal, status=404, title="Call not found", frame=None, status_note=call_id)
    frame = _frame(portal, item["client_id"], _user(request), item["handler"], "CALL_CARD")
    frame["call_status"] = status
    return _render("app.html", portal, title=f"Звонок {status['PHONE_NUMBER']}", frame=frame,
                   frame_json=json.dumps(frame), installed=True)


def call_record(portal, request, file_id):
    from .methods.telephony import record_file

    body = record_file(portal, file_id)
    if body is None:
        return Response("not found", status=404)
    return Response(body, mimetype="audio/mpeg")


def finish(portal, request, client_id):
    if client_id in portal.installs:
        portal.finish_install(client_id)
    return Response(json.dumps({"result": True}), mimetype="application/json")


def fresh_auth(portal, request, client_id):
    pair = portal.issue_tokens(client_id, _user(request))
    body = {"AUTH_ID": pair.access.token, "REFRESH_ID": pair.refresh.token, "AUTH_EXPIRES": "3600"}
    return Response(json.dumps(body), mimetype="application/json")


def _entity(kind: str, code: str, table_names: tuple[str, ...], option: str = "ID"):
    """An entity's card with the app tabs bound to ``code``; a tab's frame gets ``{option: id}`` as its
    PLACEMENT_OPTIONS (CRM cards: ``ID``; a task card, TASK_VIEW_TAB: ``taskId`` and the card's ``URI``)."""
    def view(portal, request, entity_id, user=None):
        record = None
        for name in table_names:
            table = getattr(portal.db, name, None)
            if table is not None:
                try:
                    record = table.get(entity_id) or table.get(str(entity_id))
                except AttributeError:
                    record = None
                break
        tabs = placements(portal, code)
        frame = None
        chosen = request.args.get("tab")
        tab = next((t for t in tabs if str(t["id"]) == chosen), None)
        if tab is not None:
            options = {option: str(entity_id)}
            if option == "taskId":
                options["URI"] = request.path
            frame = _frame(portal, tab["client_id"], _user(request), tab["handler"], code, options)
        title = _f(record, "TITLE", "title", default=None) if record is not None else None
        return _render("entity.html", portal, title=title or f"{kind.title()} #{entity_id}", kind=kind,
                       entity_id=entity_id, record=record, tabs=tabs, tab=tab, frame=frame,
                       frame_json=json.dumps(frame) if frame else "null")
    return view


def dynamic_entity(portal, request, etid, entity_id):
    """A smart-process item's card (``/crm/type/<entityTypeId>/details/<id>/``) with its detail tabs
    (``CRM_DYNAMIC_<entityTypeId>_DETAIL_TAB``), PLACEMENT_OPTIONS ``{"ID": id}`` as for a deal."""
    code = f"CRM_DYNAMIC_{int(etid)}_DETAIL_TAB"
    try:
        record = portal.db.table_for(int(etid)).get(entity_id)
    except (KeyError, AttributeError, ValueError):
        record = None
    tabs = placements(portal, code)
    chosen = request.args.get("tab")
    tab = next((t for t in tabs if str(t["id"]) == chosen), None)
    frame = _frame(portal, tab["client_id"], _user(request), tab["handler"], code, {"ID": str(entity_id)}) \
        if tab is not None else None
    title = _f(record, "TITLE", "title", default=None) if record is not None else None
    return _render("entity.html", portal, title=title or f"Item #{entity_id}", kind="item", entity_id=entity_id,
                   record=record, tabs=tabs, tab=tab, frame=frame, frame_json=json.dumps(frame) if frame else "null")


def bx24_js(portal, request):
    js = resources.files("b24sandbox").joinpath("static/bx24.js").read_text(encoding="utf-8")
    return Response(js, mimetype="application/javascript", headers={"Access-Control-Allow-Origin": "*"})


RULES = [
    Rule("/", endpoint=index, methods=["GET"]),
    Rule("/marketplace/app/<client_id>/", endpoint=app_page, methods=["GET"]),
    Rule("/marketplace/app/<client_id>/finish", endpoint=finish, methods=["POST"]),
    Rule("/marketplace/app/<client_id>/auth", endpoint=fresh_auth, methods=["GET"]),
    Rule("/crm/deal/details/<int:entity_id>/", endpoint=_entity("deal", "CRM_DEAL_DETAIL_TAB", ("deals",)),
         methods=["GET"]),
    Rule("/crm/company/details/<int:entity_id>/",
         endpoint=_entity("company", "CRM_COMPANY_DETAIL_TAB", ("companies",)), methods=["GET"]),
    Rule("/crm/type/<int:etid>/details/<int:entity_id>/", endpoint=dynamic_entity, methods=["GET"]),
    Rule("/company/personal/user/<int:user>/tasks/task/view/<int:entity_id>/",
         endpoint=_entity("task", "TASK_VIEW_TAB", ("tasks",), option="taskId"), methods=["GET"]),
    Rule("/api/v1/", endpoint=bx24_js, methods=["GET"]),
    Rule("/telephony/call/<call_id>/", endpoint=call_card, methods=["GET"]),
    Rule("/telephony/record/<int:file_id>.mp3", endpoint=call_record, methods=["GET"]),
]
