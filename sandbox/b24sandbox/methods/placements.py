"""placement.bind / unbind / get / list (reference §3.1–3.2; docs api-reference/widgets/placement-*.md;
src rest/lib/api/placement.php).

Admin + app context only; ``PLACEMENT`` upper-cased, ``DEFAULT`` rejected; the code must exist and its module
scope be granted (``CRM_*`` needs ``crm``) else ERROR_PLACEMENT_NOT_FOUND; a duplicate (same app, code,
handler, user) → ERROR_CORE "Unable to set placement handler: Handler already binded". Bindings are rows of
``portal.db.placements`` (id → row with ``client_id``) so the portal page can render tabs and menu items.
"""
from __future__ import annotations

from ..registry import B24Fault, method
from .events import _arg_error, _up, check_handler_url

CRM_TYPES = ["LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "INVOICE", "SMART_INVOICE", "ORDER", "ACTIVITY"]
CRM_SUFFIXES = ["LIST_MENU", "LIST_TOOLBAR", "DETAIL_TAB", "DETAIL_ACTIVITY", "DETAIL_TOOLBAR",
                "ACTIVITY_TIMELINE_MENU", "DOCUMENTGENERATOR_BUTTON", "ROBOT_DESIGNER_TOOLBAR"]
CRM_OTHER = ["CRM_FUNNELS_TOOLBAR", "CRM_SMART_INVOICE_FUNNELS_TOOLBAR", "CRM_ANALYTICS_MENU",
             "CRM_ANALYTICS_TOOLBAR", "CRM_DETAIL_SEARCH", "CRM_REQUISITE_AUTOCOMPLETE",
             "CRM_BANK_DETAIL_AUTOCOMPLETE"]
OTHER = {"LEFT_MENU": "placement", "REST_APP_URI": "placement", "PAGE_BACKGROUND_WORKER": "placement",
         "BI_ANALYTICS_MENU": "placement", "CALL_CARD": "telephony", "TELEPHONY_ANALYTICS_MENU": "telephony",
         "USER_PROFILE_MENU": "user", "USER_PROFILE_TOOLBAR": "user", "TASK_VIEW_TAB": "task",
         "TASK_VIEW_SIDEBAR": "task", "TASK_LIST_CONTEXT_MENU": "task", "CALENDAR_GRIDVIEW": "calendar",
         "IM_CONTEXT_MENU": "im", "IM_TEXTAREA": "im", "IM_SIDEBAR": "im", "IM_NAVIGATION": "im",
         "SONET_GROUP_DETAIL_TAB": "sonet_group", "CONTACT_CENTER": "contact_center",
         "SETTING_CONNECTOR": "imopenlines"}
SINGLE = {"PAGE_BACKGROUND_WORKER", "REST_APP_URI"}
APP_CONTEXT = "Current authorization type is denied for this method Application context required"


def available(db) -> dict[str, str]:
    """Every placement code of this portal → the module scope it needs."""
    codes = {f"CRM_{t}_{s}": "crm" for t in CRM_TYPES for s in CRM_SUFFIXES}
    for t in db.types.rows.values():
        etid = t["entityTypeId"]
        codes.update({f"CRM_DYNAMIC_{etid}_{s}": "crm" for s in CRM_SUFFIXES})
        codes[f"CRM_DYNAMIC_{etid}_FUNNELS_TOOLBAR"] = "crm"
    codes.update({c: "crm" for c in CRM_OTHER})
    codes.update(OTHER)
    return codes


def _app_admin(ctx) -> None:
    if ctx.auth_kind != "oauth" or not ctx.client_id:
        raise B24Fault("WRONG_AUTH_TYPE", APP_CONTEXT, 403)
    if not ctx.is_admin:
        raise B24Fault("ACCESS_DENIED", "Access denied! Admin permissions required", 403)


def _lang(value) -> dict:
    return value if isinstance(value, dict) else {}


@method("placement.bind", scope="placement")
def placement_bind(ctx, params):
    _app_admin(ctx)
    p = _up(params)
    code = str(p.get("PLACEMENT") or "").upper()
    if not code:
        raise _arg_error("PLACEMENT")
    handler = str(p.get("HANDLER") or "")
    if not handler:
        raise _arg_error("HANDLER")
    db = ctx.portal.db
    codes = available(db)
    if code == "DEFAULT" or code not in codes or (codes[code] != "placement" and codes[code] not in ctx.scope):
        raise B24Fault("ERROR_PLACEMENT_NOT_FOUND", "Placement not found", 400)
    check_handler_url(handler)
    user_id = int(p.get("USER_ID") or 0)
    if user_id and code != "PAGE_BACKGROUND_WORKER":
        raise B24Fault("ERROR_PLACEMENT_USER_MODE", "Placement does not support user mode", 400)
    lang_all = _lang(p.get("LANG_ALL"))
    options = p.get("OPTIONS") if isinstance(p.get("OPTIONS"), dict) else {}
    if not code.endswith("_DETAIL_ACTIVITY") and not code.endswith("_AUTOCOMPLETE"):
        options = {}                                   # other placements silently drop OPTIONS
    with db.lock:
        mine = [b for b in db.placements_of(ctx.client_id) if b["placement"] == code]
        if code in SINGLE and mine:
            raise B24Fault("ERROR_PLACEMENT_MAX_COUNT", "Placement max count reached", 400)
        if any(b["handler"] == handler and b["user_id"] == user_id for b in mine):
            raise B24Fault("ERROR_CORE", "Unable to set placement handler: Handler already binded", 400)
        title = str(p.get("TITLE") or "")
        if not title and lang_all:
            title = str(next(iter(lang_all.values())).get("TITLE", ""))
        db.add_placement({"client_id": ctx.client_id, "placement": code, "handler": handler, "title": title,
                          "description": str(p.get("DESCRIPTION") or ""),
                          "group_name": str(p.get("GROUP_NAME") or ""), "lang_all": lang_all,
                          "options": options, "user_id": user_id})
    return True


@method("placement.unbind", scope="placement")
def placement_unbind(ctx, params):
    _app_admin(ctx)
    p = _up(params)
    code = str(p.get("PLACEMENT") or "").upper()
    if not code:
        raise _arg_error("PLACEMENT")
    handler = str(p.get("HANDLER") or "")
    user_id = p.get("USER_ID")
    db = ctx.portal.db
    with db.lock:
        gone = [b["id"] for b in db.placements_of(ctx.client_id) if b["placement"] == code
                and (not handler or b["handler"] == handler)
                and (user_id in (None, "") or b["user_id"] == int(user_id))]
        for pid in gone:
            del db.placements[pid]
    return {"count": len(gone)}


@method("placement.get", scope="placement")
def placement_get(ctx, params):
    if ctx.auth_kind != "oauth" or not ctx.client_id:
        raise B24Fault("WRONG_AUTH_TYPE", APP_CONTEXT, 403)
    return [{"placement": b["placement"], "userId": b["user_id"], "handler": b["handler"],
             "options": b["options"] or [], "title": b["title"], "description": b["description"],
             "groupName": b["group_name"], "langAll": b["lang_all"] or []}
            for b in ctx.portal.db.placements_of(ctx.client_id)]


@method("placement.list", scope="placement")
def placement_list(ctx, params):
    p = _up(params)
    scope = str(p.get("SCOPE") or "")
    codes = available(ctx.portal.db)
    return sorted(c for c, s in codes.items()
                  if (not scope or s == scope) and (s == "placement" or s in ctx.scope or p.get("FULL")))
