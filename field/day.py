"""A worker's day on his phone: today's jobs and visits in route order, each with its navigation links and
what the phone may do with it.

Job kinds. What the phone works on is a *kind*: ``job`` (a deal of the Measurements / Installation pipelines,
read from the orders map's job cache and narrowed to what the worker's own token may read) and ``visit`` (a
sales rep's Visit item). Each kind answers four questions, so another domain adds its own (desk's work
orders, say) without touching this file's callers:

- ``items(services, member_id, worker_id, day, zone)`` → the worker's ``DayItem``s of that day;
- ``owned(services, member_id, worker_id, item_id)`` → ``Owned`` (the CRM owner files and comments go to,
  the manager, the Bitrix24 task) or ``NotYours`` / ``NotFound`` — the scoping every action passes;
- ``move(services, member_id, owned, step)`` → the stage the item moves to on ``started`` / ``finished``
  (None: the kind has no such stage), written with the worker's token;
- ``actions``: the buttons the phone shows for it.

``KINDS`` is the default set; ``day()`` and field/actions.py take a ``kinds`` mapping, so a deployment (or a
test) passes its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from b24app.errors import B24Error, said
from install.registry import installed_ids
from maps import links as maps_links
from maps import service as maps_service
from visits import route as visit_route

from .ledger import FieldLedger

JOB_ACTIONS = ("on_way", "started", "photo", "form", "comment", "finished", "check_in", "check_out")
VISIT_ACTIONS = ("on_way", "check_in", "photo", "comment", "check_out")
STATUS_OF = (("finished", "finished_at"), ("started", "started_at"), ("on_way", "on_way_at"))


class NotYours(PermissionError):
    """The job (or visit) is another worker's: the phone of one worker acts on his own only."""


class NotFound(LookupError):
    """No such job of that kind on this portal (or the portal will not show it to this worker)."""


@dataclass
class DayItem:
    kind: str
    id: int
    title: str
    start: datetime | None
    minutes: int
    address: str
    point: tuple[float, float] | None
    client: str = ""
    stage: str = ""
    pipeline: str = ""
    actions: tuple[str, ...] = ()

    def view(self, zone) -> dict:
        local = self.start.astimezone(zone) if self.start else None
        return {"kind": self.kind, "id": self.id, "key": f"{self.kind}:{self.id}", "title": self.title,
                "start": local.isoformat() if local else None, "time": local.strftime("%H:%M") if local else "",
                "minutes": self.minutes, "address": self.address, "client": self.client, "stage": self.stage,
                "pipeline": self.pipeline, "lat": self.point[0] if self.point else None,
                "lon": self.point[1] if self.point else None, "actions": list(self.actions),
                "links": nav_links(self.point, self.address)}


@dataclass
class Owned:
    """An item the worker may act on, as the portal holds it now."""
    kind: str
    id: int
    worker_id: int
    entity_type: str                    # crm.timeline.comment.add ENTITY_TYPE: "deal", "dynamic_1032"
    title: str = ""
    manager_id: int | None = None
    task: dict | None = None            # the open Bitrix24 task of this job for this worker ({id, status})
    stage_id: str = ""
    data: dict = field(default_factory=dict)
    chat: tuple[str, int] | None = None  # the CRM object whose open-line chat reaches the client


def nav_links(point, address: str = "") -> dict:
    """Yandex Maps (route from where the phone is), Yandex Navigator (its documented ``build_route_on_map``
    scheme) and Google Maps directions to one stop; by address when it has no point."""
    if point is None and not address:
        return {}
    target = point if point is not None else address
    out = {"yandex": maps_links.yandex_route_links([target], from_current_location=True)[0],
           "google": maps_links.google_destination_link(target)}
    if point is not None:
        out["navigator"] = maps_links.yandex_navigator_link(point[0], point[1])
    return out


# --- the kinds -----------------------------------------------------------------------------------------------
class DealJobs:
    """Measurement and installation jobs: deals of our pipelines with the worker in the deal's worker field."""

    kind = "job"
    actions = JOB_ACTIONS

    def items(self, services, member_id: str, worker_id: int, day: date, zone) -> list[DayItem]:
        _, current = maps_service.jobs(services, member_id)          # the map's shared cache (app token) …
        todays = [j for j in current if j.worker_id == int(worker_id) and j.start is not None
                  and j.start.astimezone(zone).date() == day]
        mine = maps_service.own_jobs(services, member_id, todays, worker_id)   # … narrowed with his own token
        return [DayItem("job", j.id, j.title, j.start, j.duration_min, j.address, j.point, j.client, j.stage,
                        j.pipeline, self.actions) for j in mine]

    def owned(self, services, member_id: str, worker_id: int, item_id: int) -> Owned:
        ids = installed_ids(services.store, member_id)
        client = services.client(member_id)
        got = client.batch({
            "deal": ("crm.deal.get", {"id": int(item_id)}),
            "tasks": ("tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{int(item_id)}",
                                                     "RESPONSIBLE_ID": int(worker_id)},
                                          "select": ["ID", "STATUS", "RESPONSIBLE_ID", "ALLOW_TIME_TRACKING"]})},
                           halt=False)
        deal = (got.result or {}).get("deal")
        if not deal:
            err = (got.errors or {}).get("deal")
            if err is not None and "not found" not in err.description.lower():
                raise err                     # the portal refused him this deal: 403 PORTAL_ACCESS_DENIED
            raise NotFound(said(f"job {item_id} not found", f"выезд {item_id} не найден"))
        if ids.pipeline_of_category(int(deal.get("CATEGORY_ID") or 0)) is None:
            raise NotFound(said(f"deal {item_id} is not a field job", f"сделка {item_id} — не выезд"))
        if str(deal.get(ids.deal_field("worker")) or "") != str(int(worker_id)):
            raise NotYours(said(f"job {item_id} is another worker's", f"выезд {item_id} назначен другому сотруднику"))
        tasks = (got.result or {}).get("tasks") or {}
        tasks = tasks.get("tasks") if isinstance(tasks, dict) else tasks
        open_tasks = [t for t in tasks or [] if str(t.get("status") or t.get("STATUS")) not in ("5", "7")]
        chosen = (open_tasks or tasks or [None])[0]
        task = {"id": int(chosen.get("id") or chosen.get("ID")), "status": str(chosen.get("status") or ""),
                "tracking": str(chosen.get("allowTimeTracking") or "N")} if chosen else None
        return Owned("job", int(item_id), int(worker_id), "deal", deal.get("TITLE") or "",
                     int(deal.get("ASSIGNED_BY_ID") or 0) or None, task, str(deal.get("STAGE_ID") or ""),
                     {"category_id": int(deal.get("CATEGORY_ID") or 0)}, ("deal", int(item_id)))

    def move(self, services, member_id: str, owned: Owned, step: str) -> str | None:
        pipeline = installed_ids(services.store, member_id).pipeline_of_category(owned.data["category_id"])
        key = {"started": "job_started", "finished": "job_done"}.get(step)
        if pipeline is None or key is None or key not in pipeline.stages:
            return None
        stage = pipeline.stage(key)
        if owned.stage_id != stage:
            services.client(member_id).call("crm.deal.update", {"id": owned.id, "fields": {"STAGE_ID": stage}})
        return stage


class Visits:
    """A sales rep's open visits of the day (visits/route.py reads them with the companies' points)."""

    kind = "visit"
    actions = VISIT_ACTIONS

    def items(self, services, member_id: str, worker_id: int, day: date, zone) -> list[DayItem]:
        stops, unplaced = visit_route._open_visits(services, member_id, int(worker_id), day, zone)
        out = []
        for r, p in [*stops, *((r, None) for r in unplaced)]:
            at = visit_route.agreed_time(r["date"], zone)
            out.append(DayItem("visit", r["id"], r.get("company") or r["title"], at, visit_route.VISIT_MINUTES,
                               r.get("address") or "", p, r.get("company") or "", r["stage"], "visit",
                               self.actions))
        return out

    def owned(self, services, member_id: str, worker_id: int, item_id: int) -> Owned:
        v = installed_ids(services.store, member_id).smart_process("visit")
        try:
            item = services.client(member_id).call("crm.item.get", {"entityTypeId": v.entity_type_id,
                                                                    "id": int(item_id)})["item"]
        except B24Error as exc:              # the portal's "not found" for this person
            if "not found" in str(getattr(exc, "description", exc)).lower() or \
                    getattr(exc, "code", "") == "NOT_FOUND":
                raise NotFound(said(f"visit {item_id} not found", f"посещение {item_id} не найдено")) from None
            raise
        if int(item.get("assignedById") or 0) != int(worker_id):
            raise NotYours(said(f"visit {item_id} is another person's", f"посещение {item_id} — чужое"))
        company = int(item.get("companyId") or 0)
        return Owned("visit", int(item_id), int(worker_id), f"dynamic_{v.entity_type_id}", item.get("title") or "",
                     int(item.get("assignedById") or 0) or None, None, str(item.get("stageId") or ""),
                     chat=("company", company) if company else None)

    def move(self, services, member_id: str, owned: Owned, step: str) -> str | None:
        return None                          # a visit's result is set on the visit page (visits/act.py)


KINDS: dict = {k.kind: k for k in (DealJobs(), Visits())}


def _order(items: list[DayItem]) -> list[DayItem]:
    """Route order: the agreed times first, in time order (the dispatcher booked the day that way); items
    without a time after them, each next one the nearest to the previous stop."""
    timed = sorted((i for i in items if i.start), key=lambda i: (i.start, i.kind, i.id))
    rest = sorted((i for i in items if not i.start), key=lambda i: (i.kind, i.id))
    out = list(timed)
    here = next((i.point for i in reversed(out) if i.point), None)
    while rest:
        if here is None:
            nxt = rest[0]
        else:
            nxt = min(rest, key=lambda i: (i.point is None,
                                           (i.point[0] - here[0]) ** 2 + (i.point[1] - here[1]) ** 2
                                           if i.point else 0))
        rest.remove(nxt)
        out.append(nxt)
        here = nxt.point or here
    return out


def status_of(job: dict | None) -> str:
    if not job:
        return "planned"
    return next((s for s, col in STATUS_OF if job.get(col)), "planned")


def day(services, member_id: str, worker_id: int, the_day: date | None = None, kinds: dict | None = None) -> dict:
    """The worker's day: items in route order with links, what he already tapped (status, minutes), the
    whole-day route links. ``services`` acts as the worker (his token narrows what he sees)."""
    kinds = kinds or KINDS
    conf = maps_service.settings(services, member_id)
    zone = maps_service.tz(conf)
    the_day = the_day or services.now(zone).date()
    items: list[DayItem] = []
    for kind in kinds.values():
        items.extend(kind.items(services, member_id, int(worker_id), the_day, zone))
    ordered = _order(items)
    ledger = FieldLedger(services.store.engine, member_id)
    taps = {(j["item_kind"], int(j["item_id"])): j for j in ledger.jobs(int(worker_id))}
    files: dict = {}
    for a in ledger.actions(worker_id=int(worker_id), status="done"):
        if a["action"] in ("photo", "form"):
            files[(a["item_kind"], int(a["item_id"]))] = files.get((a["item_kind"], int(a["item_id"])), 0) + 1
    out = []
    for it in ordered:
        v = it.view(zone)
        job = taps.get((it.kind, it.id))
        v.update(status=status_of(job), travel_minutes=(job or {}).get("travel_minutes"),
                 on_site_minutes=(job or {}).get("on_site_minutes"), files=files.get((it.kind, it.id), 0),
                 checked_in=bool((job or {}).get("checked_in_at")))
        out.append(v)
    points = [(i.point[0], i.point[1]) for i in ordered if i.point]
    hours = maps_service.working_hours(conf, worker_id)
    return {"date": the_day.isoformat(), "tz": str(zone), "worker_id": int(worker_id), "items": out,
            "hours": {"start": hours.start.strftime("%H:%M"), "end": hours.end.strftime("%H:%M")},
            "route": {"yandex": maps_links.yandex_route_links(points, from_current_location=True),
                      "google": maps_links.google_route_links(points)}}


def day_bounds(the_day: date, zone) -> tuple[datetime, datetime]:
    lo = datetime.combine(the_day, time(0), tzinfo=zone)
    return lo, lo + timedelta(days=1)
