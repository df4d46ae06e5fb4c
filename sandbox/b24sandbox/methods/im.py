"""im.notify.system.add / im.notify.personal.add (reference §6; docs
api-reference/chats/notifications/im-notify-system-add.md): USER_ID and MESSAGE required, the answer is the new
notification id. Notifications land in ``portal.db.notifications`` (the portal page and tests read them)."""
from __future__ import annotations

from ..crmcore import now_iso
from ..registry import B24Fault, method


def _notify(ctx, params, kind: str) -> int:
    p = {str(k).upper(): v for k, v in params.items()}
    try:
        uid = int(p.get("USER_ID") or 0)
    except (TypeError, ValueError):
        uid = 0
    if not uid or ctx.portal.db.users.get(uid) is None:
        raise B24Fault("USER_ID_EMPTY", "Recipient is not specified", 400)
    if not str(p.get("MESSAGE") or "").strip():
        raise B24Fault("MESSAGE_EMPTY", "Message can't be empty", 400)
    row = {"TYPE": kind, "USER_ID": uid, "FROM_USER_ID": ctx.user_id if kind == "personal" else 0,
           "MESSAGE": str(p["MESSAGE"]), "MESSAGE_OUT": str(p.get("MESSAGE_OUT") or ""),
           "TAG": str(p.get("TAG") or ""), "SUB_TAG": str(p.get("SUB_TAG") or ""), "ATTACH": p.get("ATTACH"),
           "CLIENT_ID": ctx.client_id, "DATE_CREATE": now_iso(ctx.portal), "READ": "N"}
    db = ctx.portal.db
    with db.lock:
        if row["TAG"]:                                   # a TAG replaces the previous notification with it
            for nid in [i for i, n in db.notifications.rows.items()
                        if n["TAG"] == row["TAG"] and n["USER_ID"] == uid]:
                db.notifications.delete(nid)
        return db.notifications.insert(row)


@method("im.notify.system.add", scope="im")
def notify_system(ctx, params):
    return _notify(ctx, params, "system")


@method("im.notify.personal.add", scope="im")
def notify_personal(ctx, params):
    return _notify(ctx, params, "personal")
