"""profile, user.current, user.get, user.admin, department.get.

Reference §6; docs api-reference/user/user-current.md, user-get.md. Legacy-style output: ``ID`` as a
string, ``ACTIVE`` a boolean, ``UF_DEPARTMENT`` a list of ints; user.get pages by 50 with ``start`` and
takes its filter either as ``FILTER`` or as top-level keys (``{"ID": 5}``); ``FIND`` searches names and
e-mail. The portal always has the admin user 1 (crmdefaults.install_defaults).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..filters import compile_filter, page_of, parse_order, select_rows, upper_field
from ..registry import B24Fault, Paged, method

HIDDEN = {"IS_ADMIN", "ID"}
CONTROL = {"sort", "order", "filter", "admin_mode", "start", "select", "image_resize"}


def user_out(u: dict) -> dict:
    out = {"ID": str(u["ID"]), "XML_ID": str(u.get("XML_ID") or "")}
    out.update({k: v for k, v in u.items() if k not in HIDDEN})
    out["UF_DEPARTMENT"] = [int(d) for d in u.get("UF_DEPARTMENT") or []]
    return out


@method("user.current")
def user_current(ctx, params):
    u = ctx.portal.db.users.get(ctx.user_id)
    if u is None:
        raise B24Fault("NO_AUTH_FOUND", "Wrong authorization data", 401)
    return user_out(u)


@method("profile")
def profile(ctx, params):
    """The caller's basic profile with no scope needed (scope "basic", any user; docs
    api-reference/common/users/profile.md, src rest CRestProvider::getProfile): ID as a string, ADMIN,
    NAME, LAST_NAME, PERSONAL_GENDER, PERSONAL_PHOTO only when the user has one, TIME_ZONE ("" when the
    zone is automatic), TIME_ZONE_OFFSET = the user's seconds east of UTC (user offset + server's date('Z'),
    an int). An inactive user gets an empty array."""
    u = ctx.portal.db.users.get(ctx.user_id)
    if u is None:
        raise B24Fault("NO_AUTH_FOUND", "Wrong authorization data", 401)
    if not u.get("ACTIVE", True):
        return []
    out = {"ID": str(u["ID"]), "ADMIN": bool(ctx.is_admin), "NAME": u.get("NAME") or "",
           "LAST_NAME": u.get("LAST_NAME") or "", "PERSONAL_GENDER": u.get("PERSONAL_GENDER") or ""}
    if u.get("PERSONAL_PHOTO"):
        out["PERSONAL_PHOTO"] = u["PERSONAL_PHOTO"]
    out["TIME_ZONE"] = "" if u.get("AUTO_TIME_ZONE") == "Y" else (u.get("TIME_ZONE") or "")
    out["TIME_ZONE_OFFSET"] = _utc_offset(u, ctx.portal.clock.now())
    return out


def _utc_offset(u: dict, now: float) -> int:
    try:
        zone = ZoneInfo(u.get("TIME_ZONE") or "")
    except (ZoneInfoNotFoundError, ValueError):
        return int(u.get("TIME_ZONE_OFFSET") or 0)
    return int(datetime.fromtimestamp(now, zone).utcoffset().total_seconds())


@method("user.admin")
def user_admin(ctx, params):
    return bool(ctx.is_admin)


@method("user.get", scope="user")
def user_get(ctx, params):
    filt = params.get("FILTER") or params.get("filter")
    if not isinstance(filt, dict):
        filt = {k: v for k, v in params.items() if str(k).lower() not in CONTROL}
    filt = dict(filt)
    find = filt.pop("FIND", None) or filt.pop("find", None)
    getter = upper_field
    pred = compile_filter(filt, getter)
    if find:
        needle = str(find).casefold()
        base = pred
        pred = lambda r: base(r) and any(needle in str(r.get(k) or "").casefold()  # noqa: E731
                                         for k in ("NAME", "LAST_NAME", "SECOND_NAME", "EMAIL", "WORK_POSITION"))
    sort = params.get("sort") or params.get("SORT") or "ID"
    direction = params.get("order") or params.get("ORDER") or "ASC"
    order = parse_order({str(sort): str(direction)}, getter)
    offset, count = page_of(params.get("start"))
    db = ctx.portal.db
    with db.lock:
        rows, total = select_rows(db.users.rows.values(), pred, order, offset, 50, count)
        out = [user_out(u) for u in rows]
    if not count:
        return Paged(out)
    return Paged(out, next=offset + len(out) if offset + len(out) < total else None, total=total)


@method("department.get", scope="department")
def department_get(ctx, params):
    filt = {k: v for k, v in params.items() if str(k).lower() not in CONTROL}
    getter = upper_field
    rows, total = select_rows(ctx.portal.db.departments.rows.values(), compile_filter(filt, getter), [], 0,
                              10**6, True)
    out = [{"ID": str(d["ID"]), "NAME": d["NAME"], "SORT": str(d["SORT"]),
            **({"PARENT": str(d["PARENT"])} if d.get("PARENT") else {}),
            **({"UF_HEAD": str(d["UF_HEAD"])} if d.get("UF_HEAD") else {})} for d in rows]
    return Paged(out, total=total)
