"""Current jobs of a portal: deals of our three pipelines (Measurements, Production, Installation) read
through the installed ids — field names, category and stage ids differ on every portal — with
``list_all`` (one probe + batches of 50 pages) and the clients' and workers' names in batches.

"Current" means the deal is still open (STAGE_SEMANTIC_ID P): won and lost deals are history, not
something a dispatcher plans. The result is plain ``OrderJob`` values; feed.py and assign.py shape them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Iterable

from install.manifest import load as load_manifest
from install.registry import InstalledIds
from maps.geo import parse_point

PIPELINES = ("measurements", "production", "installation")
DEFAULT_DURATION = {"measurements": 60, "production": 60, "installation": 180}


@dataclass(frozen=True)
class OrderJob:
    id: int
    title: str
    pipeline: str               # our key
    stage: str                  # our stage key ("" when the admin added a stage of their own)
    stage_id: str               # the portal's STATUS_ID
    stage_color: str
    worker_id: int | None
    start: datetime | None
    duration_min: int
    address: str
    point: tuple[float, float] | None
    company_id: int | None
    contact_id: int | None
    client: str = ""
    worker: str = ""

    @property
    def day(self) -> date | None:
        return None if self.start is None else self.start.date()


def stage_colors() -> dict[tuple[str, str], str]:
    """(pipeline key, stage key) → the manifest's colour: the map uses the colours the portal shows."""
    return {(p["key"], s["key"]): s.get("color", "#A5A5A5") for p in load_manifest().pipelines for s in p["stages"]}


def parse_dt(value) -> datetime | None:
    if not value:
        return None
    s = str(value).strip()
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int(v) -> int | None:
    try:
        n = int(str(v).strip())
    except (TypeError, ValueError):
        return None
    return n or None


def deal_select(ids: InstalledIds) -> list[str]:
    return ["ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "COMPANY_ID", "CONTACT_ID", "ASSIGNED_BY_ID",
            *(ids.deal_field(k) for k in ("worker", "job_at", "job_duration", "job_address", "coordinates"))]


def job_from_deal(deal: dict, ids: InstalledIds, colors: dict | None = None) -> OrderJob | None:
    pipeline = ids.pipeline_of_category(int(deal.get("CATEGORY_ID") or 0))
    if pipeline is None:
        return None
    colors = colors if colors is not None else stage_colors()
    stage = pipeline.stage_key(str(deal.get("STAGE_ID") or "")) or ""
    duration = _int(deal.get(ids.deal_field("job_duration"))) or DEFAULT_DURATION.get(pipeline.key, 60)
    return OrderJob(
        id=int(deal["ID"]), title=str(deal.get("TITLE") or ""), pipeline=pipeline.key, stage=stage,
        stage_id=str(deal.get("STAGE_ID") or ""), stage_color=colors.get((pipeline.key, stage), "#A5A5A5"),
        worker_id=_int(deal.get(ids.deal_field("worker"))), start=parse_dt(deal.get(ids.deal_field("job_at"))),
        duration_min=duration, address=str(deal.get(ids.deal_field("job_address")) or ""),
        point=parse_point(deal.get(ids.deal_field("coordinates"))),
        company_id=_int(deal.get("COMPANY_ID")), contact_id=_int(deal.get("CONTACT_ID")),
    )


def current_jobs(client, ids: InstalledIds, *, with_names: bool = True) -> list[OrderJob]:
    """Every open deal of our pipelines as an OrderJob, clients' and workers' names filled in."""
    cats = [ids.pipeline(k).category_id for k in PIPELINES if k in ids.data.get("pipelines", {})]
    if not cats:
        return []
    colors = stage_colors()
    rows = client.list_all("crm.deal.list", {"select": deal_select(ids),
                                             "filter": {"@CATEGORY_ID": cats, "STAGE_SEMANTIC_ID": "P"}})
    jobs = [j for j in (job_from_deal(d, ids, colors) for d in rows) if j is not None]
    return fill_names(client, jobs) if with_names else jobs


def one_job(client, ids: InstalledIds, deal_id: int) -> OrderJob | None:
    deal = client.call("crm.deal.get", {"id": int(deal_id)})
    job = job_from_deal(deal, ids)
    return fill_names(client, [job])[0] if job else None


def fill_names(client, jobs: list[OrderJob]) -> list[OrderJob]:
    companies = titles(client, "crm.company.list", {j.company_id for j in jobs if j.company_id}, "TITLE")
    contacts = titles(client, "crm.contact.list", {j.contact_id for j in jobs if j.contact_id and not j.company_id},
                      "NAME", "LAST_NAME")
    users = user_names(client, {j.worker_id for j in jobs if j.worker_id})
    return [replace(j, client=companies.get(j.company_id) or contacts.get(j.contact_id) or "",
                    worker=users.get(j.worker_id, "") if j.worker_id else "") for j in jobs]


def titles(client, method: str, wanted: Iterable[int], *fields: str) -> dict[int, str]:
    wanted = sorted(set(wanted))
    out: dict[int, str] = {}
    for i in range(0, len(wanted), 500):        # one filtered list per 500 ids, 50 rows a page
        chunk = wanted[i:i + 500]
        for row in client.list_all(method, {"select": ["ID", *fields], "filter": {"@ID": chunk}}):
            out[int(row["ID"])] = " ".join(str(row.get(f) or "") for f in fields).strip()
    return out


def user_names(client, wanted: Iterable[int]) -> dict[int, str]:
    return {int(u["ID"]): u["name"] for u in users(client, {"ID": sorted(set(wanted))})} if wanted else {}


def users(client, filt: dict) -> list[dict]:
    """user.get pages by 50 with ``start``; every page in one batch after the first."""
    first = client.call_raw("user.get", {"FILTER": filt, "start": 0})
    rows = list(first.get("result") or [])
    total = int(first.get("total") or len(rows))
    if total > len(rows):
        cmds = [("user.get", {"FILTER": filt, "start": s}) for s in range(50, total, 50)]
        for r in client.batch_many(cmds):
            if r.ok:
                rows.extend(r.result or [])
    for u in rows:
        u["name"] = " ".join(x for x in (str(u.get("NAME") or ""), str(u.get("LAST_NAME") or "")) if x).strip() \
            or f"#{u['ID']}"
    return rows
