"""Mechanics for a work order's window: the service head picks from those **free** then — within their
working hours (maps settings: the portal's hours or the person's own), with nothing busy in their portal
calendar (calendar.accessibility.get, one call for all) and no other open work order overlapping — and
the server refuses anyone else (MechanicBusy, 409), whatever the page showed. Mechanics are the holders
of the app's mechanic role (given to them or to their department)."""
from __future__ import annotations

from datetime import datetime, timedelta

from b24app import roles as app_roles
from b24app.errors import said
from install.registry import installed_ids
from maps import service as maps_service

from . import workorder
from .intake import IntakeError, strict_id


class MechanicBusy(ValueError):
    """The chosen mechanic is not free for the window (→ 409 naming why)."""


def parse_window(start, end, tz) -> tuple[datetime, datetime]:
    out = []
    for name, raw in (("start", start), ("end", end)):
        if not isinstance(raw, str) or not raw.strip():
            raise IntakeError(said(f"{name}: a date and time YYYY-MM-DDTHH:MM is expected",
                                   f"{name}: нужны дата и время ГГГГ-ММ-ДДTЧЧ:ММ"))
        try:
            dt = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise IntakeError(said(f"{name}: {raw!r} is not a date and time", f"{name}: {raw!r} — не дата и время")) \
                from None
        out.append(dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz))
    if out[1] <= out[0]:
        raise IntakeError(said("end: must be after start", "end: должно быть позже start"))
    if out[1] - out[0] > timedelta(days=14):
        raise IntakeError(said("end: a window of at most 14 days", "end: окно не длиннее 14 дней"))
    return out[0], out[1]


def holders(client, kv, member_id: str) -> list[int]:
    doc = app_roles.load(kv, member_id)
    ids = {int(u) for u, r in doc["users"].items() if app_roles.MECHANIC in r}
    for dep, r in doc["departments"].items():
        if app_roles.MECHANIC in r:
            for u in client.call("user.get", {"FILTER": {"UF_DEPARTMENT": int(dep), "ACTIVE": True}}) or []:
                ids.add(int(u["ID"]))
    return sorted(ids)


def _names(client, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = client.call("user.get", {"FILTER": {"ID": user_ids}}) or []
    return {int(u["ID"]): " ".join(x for x in (u.get("NAME"), u.get("LAST_NAME")) if x) or f"#{u['ID']}" for u in rows}


def _overlap(a0, a1, b0, b1) -> bool:
    return a0 < b1 and b0 < a1


def _dt(value, tz) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt


def availability(services, member_id: str, start: datetime, end: datetime, exclude_deal: int | None = None,
                 only: list[int] | None = None) -> list[dict]:
    """Every mechanic with ``free`` and, when not, why: outside hours / calendar / another work order."""
    client = workorder.app_client(services, member_id)
    conf = maps_service.settings(services, member_id)
    tz = maps_service.tz(conf)
    people = holders(client, services.store.kv, member_id)
    if only is not None:
        people = [p for p in people if p in only]
    names = _names(client, people)
    busy_cal: dict = {}
    if people:
        fmt = "%Y-%m-%d %H:%M:%S"
        busy_cal = client.call("calendar.accessibility.get", {
            "users": people, "from": start.astimezone(tz).strftime(fmt), "to": end.astimezone(tz).strftime(fmt)}) or {}
    ids = installed_ids(services.store, member_id)
    mech, f0, f1 = (workorder.uf(ids, k) for k in ("svc_mechanic", "svc_job_from", "svc_job_to"))
    orders = []
    if people:
        cats = [ids.pipeline(s).category_id for s in workorder.SCENARIOS]
        orders = list(client.list_all("crm.deal.list", {"filter": {mech: people, "CLOSED": "N", "@CATEGORY_ID": cats},
                                                        "select": ["ID", "TITLE", mech, f0, f1]}))
    out = []
    for uid in people:
        reasons = []
        hours = maps_service.working_hours(conf, uid)
        day = start.astimezone(tz).date()
        inside = start.astimezone(tz).date() == end.astimezone(tz).date() and any(
            a <= start and end <= b for a, b in hours.intervals(day))
        if not inside:
            reasons.append({"why": "hours"})
        for e in busy_cal.get(str(uid)) or []:
            a, b = _dt(e.get("DATE_FROM_TS_UTC") and datetime.fromtimestamp(int(e["DATE_FROM_TS_UTC"]), tz).isoformat(),
                       tz), _dt(e.get("DATE_TO_TS_UTC") and datetime.fromtimestamp(int(e["DATE_TO_TS_UTC"]), tz)
                                .isoformat(), tz)
            if a is None or b is None:
                a, b = _dt(_portal_dt(e.get("DATE_FROM")), tz), _dt(_portal_dt(e.get("DATE_TO")), tz)
            if a is not None and b is not None and _overlap(start, end, a, b):
                reasons.append({"why": "calendar", "title": e.get("NAME") or "",
                                "from": a.isoformat(timespec="minutes"), "to": b.isoformat(timespec="minutes")})
        for o in orders:
            if str(o.get(mech) or "") != str(uid) or (exclude_deal and int(o["ID"]) == int(exclude_deal)):
                continue
            a, b = _dt(o.get(f0), tz), _dt(o.get(f1), tz)
            if a is not None and b is not None and _overlap(start, end, a, b):
                reasons.append({"why": "order", "deal_id": int(o["ID"]), "title": o.get("TITLE") or "",
                                "from": a.isoformat(timespec="minutes"), "to": b.isoformat(timespec="minutes")})
        out.append({"id": uid, "name": names.get(uid, f"#{uid}"), "free": not reasons, "busy": reasons})
    return out


def _portal_dt(value) -> str | None:
    """``04.12.2026 10:00:00`` (the calendar's own format) → ISO."""
    if not value:
        return None
    try:
        return datetime.strptime(str(value)[:19], "%d.%m.%Y %H:%M:%S").isoformat()
    except ValueError:
        try:
            return datetime.strptime(str(value)[:10], "%d.%m.%Y").isoformat()
        except ValueError:
            return None


WHY = {"hours": ("outside the working hours", "вне рабочего времени"),
       "calendar": ("busy in the calendar", "занят по календарю"),
       "order": ("on another work order", "на другом заказ-наряде")}


def assign(services, member_id: str, deal_id: int, body: dict) -> dict:
    """{mechanic_id, start, end}: the mechanic and the window, only when free (checked here, not trusted
    from the page); written with the service head's own token, the order moved to its computed stage."""
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    mechanic = strict_id(body.get("mechanic_id"), "mechanic_id", required=True)
    tz = maps_service.tz(maps_service.settings(services, member_id))
    start, end = parse_window(body.get("start"), body.get("end"), tz)
    workorder.get(services, member_id, deal_id)
    rows = availability(services, member_id, start, end, exclude_deal=deal_id, only=[mechanic])
    if not rows:
        raise IntakeError(said(f"mechanic_id: user {mechanic} is not a mechanic",
                               f"mechanic_id: сотрудник {mechanic} — не механик"))
    if not rows[0]["free"]:
        why = rows[0]["busy"][0]
        en, ru = WHY[why["why"]]
        when = f" {why.get('from', '')[11:16]}–{why.get('to', '')[11:16]}" if why.get("from") else ""
        raise MechanicBusy(said(f"{rows[0]['name']} is not free then: {en}{when}",
                                f"{rows[0]['name']} не свободен в это время: {ru}{when}"))
    view = workorder.write(services, member_id, deal_id, {
        "svc_mechanic": mechanic, "svc_job_from": start.isoformat(), "svc_job_to": end.isoformat()})
    when = f"{start.strftime('%d.%m.%Y %H:%M')}–{end.strftime('%H:%M')}"
    workorder.app_client(services, member_id).call("im.notify.system.add", {
        "USER_ID": mechanic, "TAG": f"b24app:svc_mechanic:{int(deal_id)}:{mechanic}",
        "MESSAGE": (f"Work order “{view['title']}” [{int(deal_id)}] is yours on {when}"
                    + (f", tool cell {view['tool_cell']}" if view.get("tool_cell") else "") + "."
                    if workorder.portal_lang(services, member_id) == "en" else
                    f"Вам назначен заказ-наряд «{view['title']}» [{int(deal_id)}] на {when}"
                    + (f", ячейка с инструментом {view['tool_cell']}" if view.get("tool_cell") else "") + ".")})
    return view


def reschedule(services, member_id: str, deal_id: int, body: dict) -> dict:
    """A new window for the order's mechanic (or another one): the same freedom check."""
    if not isinstance(body, dict):
        raise IntakeError(said("body: a JSON object is expected", "тело запроса: нужен JSON-объект"))
    deal = workorder.get(services, member_id, deal_id)
    ids = installed_ids(services.store, member_id)
    current = deal.get(workorder.uf(ids, "svc_mechanic"))
    mechanic = body.get("mechanic_id", int(current) if str(current or "").isdigit() and int(current) else None)
    return assign(services, member_id, deal_id, {**body, "mechanic_id": mechanic})
