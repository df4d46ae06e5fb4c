"""A manager's day route: the open visits of one day in the best driving order, with the same engine as the
orders map (maps/routing.py optimise_day).

A visit whose date carries a time other than midnight (portal zone) is an *agreed* time: it starts exactly
then (a fixed time), and one that cannot be reached on time is still on the route, marked ``late``, at its
agreed place in the day — never moved silently. A date-only visit (midnight) is *flexible*: it goes wherever
the driving is shortest. The day starts at the manager's start point (``visits.route_starts`` in kv, set by an
administrator in the visit settings) or, without one, at the first agreed visit (else the first visit).
The Yandex link starts at the phone's current position: the manager opens it wherever they are.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from install.registry import installed_ids
from maps import service
from maps.links import yandex_route_links
from maps.routing import optimise_day
from maps.schedule import Job

from b24app.errors import said
from b24app.idempotent import xml_id

from . import rules
from .create import CreateError, create_visit
from .read import row, visit_fields
from .settings import route_start

VISIT_MINUTES = 45            # time at the client, for the arrivals of the stops that follow
DAY_START = time(9, 0)        # when a day without an earlier agreed visit starts
EXACT_UP_TO = 7               # an exact search is instant up to here (a usual day); VROOM/OR-Tools above


def coords(raw) -> tuple[float, float] | None:
    try:
        lat, lon = (float(x) for x in str(raw or "").split(",")[:2])
    except ValueError:
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def agreed_time(value, zone) -> datetime | None:
    """The visit's agreed start, or None for a date-only (flexible) visit."""
    at = rules.parse_dt(value, zone)
    if at is None:
        return None
    local = at.astimezone(zone)
    return None if local.time() == time(0) else local


def _open_visits(services, member_id: str, manager: int, d: date, zone) -> tuple[list, list]:
    """(stops [(row, point)], unplaced rows): the manager's open visits of the day with a company."""
    ids = installed_ids(services.store, member_id)
    v = ids.smart_process("visit")
    lo = datetime.combine(d, time(0), tzinfo=zone)
    date_f = v.field("visit_date")
    client = services.client(member_id)
    items = [row(i, v) for i in client.list_all("crm.item.list", {
        "entityTypeId": v.entity_type_id, "select": visit_fields(v),
        "filter": {"assignedById": int(manager), f">={date_f}": lo.isoformat(),
                   f"<{date_f}": (lo + timedelta(days=1)).isoformat()}})]
    items = sorted((r for r in items if r["stage"] not in ("done", "failed") and r["company_id"]),
                   key=lambda r: (r["date"], r["id"]))
    coord_f = ids.company_field("coordinates")
    comp = {}
    cids = sorted({r["company_id"] for r in items})
    for k in range(0, len(cids), 50):
        for c in client.call("crm.company.list", {"filter": {"@ID": cids[k:k + 50]},
                                                  "select": ["ID", "TITLE", "ADDRESS", coord_f]}):
            comp[int(c["ID"])] = c
    stops, unplaced = [], []
    for r in items:
        c = comp.get(r["company_id"]) or {}
        p = coords(c.get(coord_f))
        r.update(company=c.get("TITLE") or "", address=c.get("ADDRESS") or "")
        if p:
            stops.append((r, p))
        else:
            unplaced.append(r)
    return stops, unplaced


def day_route(services, member_id: str, manager: int, day: str, start: tuple[float, float] | None = None) -> dict:
    """The manager's open visits of ``day`` in the best order; agreed times kept, late ones marked."""
    zone = rules.settings_of(services.store.kv, member_id).zone
    d = date.fromisoformat(day)
    stops, unplaced = _open_visits(services, member_id, manager, d, zone)
    start = start or route_start(services.store.kv, member_id, manager)
    empty = {"stops": [], "unplaced": unplaced, "links": [], "drive_minutes": 0, "late": [],
             "start": list(start) if start else None}
    if not stops:
        return empty
    agreed = {str(r["id"]): t for r, _ in stops if (t := agreed_time(r["date"], zone)) is not None}
    by_id = {str(r["id"]): (r, p) for r, p in stops}
    if start is None:                     # no start point: the first agreed visit, else the first visit
        first = min(agreed, key=lambda i: agreed[i]) if agreed else str(stops[0][0]["id"])
        origin = by_id[first][1]
    else:
        origin = tuple(start)
    depart = datetime.combine(d, DAY_START, tzinfo=zone)
    if agreed:
        depart = min(depart, min(agreed.values()))
    jobs = [Job(id=str(r["id"]), location=p, duration_min=VISIT_MINUTES, title=r["title"]) for r, p in stops]
    route = optimise_day(origin, jobs, agreed, service.travel(services.settings), depart_at=depart,
                         engine="exact" if len(jobs) <= EXACT_UP_TO else "auto")
    # A late agreed visit stays at its agreed place in the day: before the first routed stop starting later.
    order = list(route.order)
    for jid in sorted(route.unassigned, key=lambda i: agreed.get(i) or datetime.max.replace(tzinfo=zone)):
        t = agreed.get(jid)
        k = next((n for n, o in enumerate(order) if t is not None and route.starts[o] > t), len(order))
        order.insert(k, jid)
    hm = lambda t: t.astimezone(zone).strftime("%H:%M") if t else None  # noqa: E731
    ordered = []
    for jid in order:
        r, p = by_id[jid]
        ordered.append({**r, "lat": p[0], "lon": p[1], "arrive": hm(route.arrivals.get(jid)),
                        "start": hm(route.starts.get(jid)), "agreed": hm(agreed.get(jid)),
                        "late": jid in route.unassigned})
    links = yandex_route_links([(s["lat"], s["lon"]) for s in ordered], from_current_location=True)
    return {**empty, "stops": ordered, "links": links, "drive_minutes": round(route.drive_minutes),
            "late": [int(i) for i in route.unassigned], "engine": route.engine}


MAX_PICKED = 25               # companies picked on the map for one day


def companies_route(services, member_id: str, manager: int, day: str, company_ids, create: bool = False,
                    key: str | None = None) -> dict:
    """Companies picked on the company map become one day's route: the best driving order from the person's
    start point (else the first company), arrivals from DAY_START, Yandex links. With ``create`` a visit is
    planned at each arrival (In work is for the rules to decide: new visits start as drafts), in route order;
    the page's ``key`` (one per click) makes a repeated click find the visits it made instead of doubling them."""
    zone = rules.settings_of(services.store.kv, member_id).zone
    d = date.fromisoformat(day)
    if create and d < services.now(zone).date():
        raise CreateError(said(f"{day} is in the past: plan a later day", f"{day} уже прошёл: выберите день позже"))
    wanted = []
    for c in company_ids or []:
        if isinstance(c, bool) or not str(c).isdigit() or int(c) <= 0:
            raise CreateError(said(f"{c!r} is not a company id", f"«{c}» — не номер компании"))
        if int(c) not in wanted:
            wanted.append(int(c))
    if not wanted:
        raise CreateError(said("pick at least one company on the map", "отметьте на карте хотя бы одну компанию"))
    if len(wanted) > MAX_PICKED:
        raise CreateError(said(f"at most {MAX_PICKED} companies a day", f"не больше {MAX_PICKED} компаний на день"))
    ids = installed_ids(services.store, member_id)
    coord_f = ids.company_field("coordinates")
    client = services.client(member_id)
    found = {int(c["ID"]): c for c in client.call("crm.company.list", {
        "filter": {"@ID": wanted}, "select": ["ID", "TITLE", "ADDRESS", coord_f]}) or []}
    stops, unplaced = [], []
    for cid in wanted:
        c = found.get(cid)
        p = coords(c.get(coord_f)) if c else None
        c = c or {}
        r = {"company_id": cid, "company": c.get("TITLE") or f"#{cid}", "address": c.get("ADDRESS") or ""}
        (stops.append((r, p)) if p else unplaced.append(r))
    start = route_start(services.store.kv, member_id, manager)
    out = {"stops": [], "unplaced": unplaced, "links": [], "drive_minutes": 0, "created": [],
           "start": list(start) if start else None}
    if not stops:
        return out
    origin = tuple(start) if start else stops[0][1]
    by_id = {str(r["company_id"]): (r, p) for r, p in stops}
    jobs = [Job(id=str(r["company_id"]), location=p, duration_min=VISIT_MINUTES, title=r["company"]) for r, p in stops]
    route = optimise_day(origin, jobs, {}, service.travel(services.settings),
                         depart_at=datetime.combine(d, DAY_START, tzinfo=zone),
                         engine="exact" if len(jobs) <= EXACT_UP_TO else "auto")
    hm = lambda t: t.astimezone(zone).strftime("%H:%M") if t else None  # noqa: E731
    for jid in route.order:
        r, p = by_id[jid]
        out["stops"].append({**r, "lat": p[0], "lon": p[1], "arrive": hm(route.arrivals.get(jid)),
                             "start": hm(route.starts.get(jid))})
    out["links"] = yandex_route_links([(s["lat"], s["lon"]) for s in out["stops"]], from_current_location=True)
    out["drive_minutes"] = round(route.drive_minutes)
    if create:
        for s, jid in zip(out["stops"], route.order):
            at = route.starts.get(jid)
            xml = xml_id(f"route:{manager}:{day}:{key}:{s['company_id']}") if key else None
            item = create_visit(services, member_id, s["company_id"], at.astimezone(zone).isoformat(timespec="minutes"),
                                "planned", responsible=manager, xml_id=xml)
            s["visit_id"] = int(item["id"])
            out["created"].append(int(item["id"]))
    return out
