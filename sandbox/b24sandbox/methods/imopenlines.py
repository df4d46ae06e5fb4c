"""imopenlines.crm.chat.getLastId / imopenlines.crm.message.add (docs api-reference/imopenlines/openlines/
chats/imopenlines-crm-chat-get-last-id.md, messages/imopenlines-crm-message-add.md): a CRM object's
open-line chat — the client's messenger or SMS conversation the portal's connected channel carries — and a
message sent into it on behalf of a user.

Chats live in ``portal.db.openline_chats`` ({CRM_ENTITY_TYPE, CRM_ENTITY, MESSAGES: [...]}); a test (or the
demo) adds one where the portal "has a channel connected" for that client. No chat for the object, or an
object the caller cannot see: 400 CRM_CHAT_EMPTY_CRM_DATA, as the documented method answers."""
from __future__ import annotations

from ..crmcore import now_iso
from ..registry import B24Fault, method

TYPES = {"lead": "leads", "deal": "deals", "company": "companies", "contact": "contacts"}


def _args(params: dict) -> dict:
    return {str(k).upper(): v for k, v in params.items()}


def _entity(ctx, p: dict) -> tuple[str, int]:
    etype = str(p.get("CRM_ENTITY_TYPE") or "").strip().lower()
    raw = p.get("CRM_ENTITY")
    if not etype or raw in (None, ""):
        raise B24Fault("CRM_CHAT_EMPTY_CRM_DATA", "Empty CRM data", 400)
    try:
        eid = int(raw)
    except (TypeError, ValueError):
        raise B24Fault("ERROR_ARGUMENT", "The value of an argument CRM_ENTITY has an invalid type", 400) from None
    table = getattr(ctx.portal.db, TYPES.get(etype, ""), None)
    if table is None or table.get(eid) is None:
        raise B24Fault("CRM_CHAT_EMPTY_CRM_DATA", "Could not find CRM object", 400)
    return etype, eid


def _chats(ctx, etype: str, eid: int) -> list[dict]:
    return sorted((c for c in ctx.portal.db.openline_chats.rows.values()
                   if c["CRM_ENTITY_TYPE"] == etype and int(c["CRM_ENTITY"]) == eid), key=lambda c: c["ID"])


@method("imopenlines.crm.chat.getLastId", scope="imopenlines")
def chat_last_id(ctx, params):
    etype, eid = _entity(ctx, _args(params))
    with ctx.portal.db.lock:
        chats = _chats(ctx, etype, eid)
    if not chats:
        raise B24Fault("CRM_CHAT_EMPTY_CRM_DATA", "Could not find CRM object", 400)
    return int(chats[-1]["ID"])


@method("imopenlines.crm.message.add", scope="imopenlines")
def message_add(ctx, params):
    p = _args(params)
    for name in ("CRM_ENTITY_TYPE", "CRM_ENTITY", "USER_ID", "MESSAGE"):
        if p.get(name) in (None, "") or (name == "MESSAGE" and not str(p[name]).strip()):
            raise B24Fault("ERROR_ARGUMENT", f"Argument '{name}' is null or empty", 400)
    etype, eid = _entity(ctx, p)
    db = ctx.portal.db
    with db.lock:
        try:
            chat = db.openline_chats.get(int(p.get("CHAT_ID") or 0))
        except (TypeError, ValueError):
            chat = None
        if chat is None or chat["CRM_ENTITY_TYPE"] != etype or int(chat["CRM_ENTITY"]) != eid:
            raise B24Fault("CHAT_NOT_IN_CRM", "Chat does not belong to the CRM object being checked", 400)
        mid = 1 + sum(len(c.get("MESSAGES") or []) for c in db.openline_chats.rows.values())
        chat.setdefault("MESSAGES", []).append({"ID": mid, "USER_ID": int(p["USER_ID"]), "AUTHOR_ID": ctx.user_id,
                                                "MESSAGE": str(p["MESSAGE"]), "DATE": now_iso(ctx.portal)})
    return mid
