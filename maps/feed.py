"""The map's data: current jobs as one compact JSON document.

Why columns + rows: 10,000 jobs as objects repeat every key 10,000 times; rows of positional values with
one ``columns`` list are about half the bytes and parse faster. Repeated strings (stage names, worker
names) go into small lookup tables. Nothing is escaped here — this is data; the page puts every portal
string into the DOM with textContent, never as HTML.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable, Sequence

from install.manifest import load
from maps.orders import OrderJob

COLUMNS = ("id", "lat", "lon", "color", "assigned", "stage", "pipeline", "worker", "title", "client",
           "address", "time", "duration")
UNASSIGNED_COLOR = "#E53935"
# Where someone drives to: what the map shows unless a pipeline is picked (production orders have a
# place but no visit until they move to installation).
FIELD_PIPELINES = ("measurements", "installation")


def marker_color(job: OrderJob) -> str:
    """Unassigned jobs are red whatever their stage — they are what a dispatcher must act on; assigned
    ones take their stage's colour."""
    return job.stage_color if job.worker_id else UNASSIGNED_COLOR


def filter_jobs(jobs: Iterable[OrderJob], *, day: date | None = None, pipeline: str = "", stage: str = "",
                worker: str = "") -> list[OrderJob]:
    """``worker``: a user id, "none" (unassigned) or "" (all); ``pipeline``: a key, "all", or "" (the field
    pipelines); ``day`` keeps that date's jobs and those not scheduled yet (they still need a date)."""
    out = []
    for j in jobs:
        if day is not None and j.start is not None and j.start.date() != day:
            continue
        if (j.pipeline not in FIELD_PIPELINES) if not pipeline else (pipeline != "all" and j.pipeline != pipeline):
            continue
        if stage and j.stage != stage and j.stage_id != stage:
            continue
        if worker == "none" and j.worker_id:
            continue
        if worker and worker != "none" and str(j.worker_id or "") != worker:
            continue
        out.append(j)
    return out


def row(job: OrderJob) -> list:
    lat, lon = job.point if job.point else (None, None)
    return [job.id, lat, lon, marker_color(job), 1 if job.worker_id else 0, job.stage, job.pipeline,
            job.worker_id or 0, job.title, job.client, job.address,
            job.start.strftime("%Y-%m-%dT%H:%M") if job.start else "", job.duration_min]


def build(jobs: Sequence[OrderJob], version: int = 0, stage_names: dict | None = None) -> dict:
    """The document ``GET /api/maps/jobs`` answers. Jobs without coordinates are not drawn; their ids
    are listed in ``unplaced`` so the page can say how many orders are not on the map."""
    placed = [j for j in jobs if j.point is not None]
    workers = {str(j.worker_id): j.worker for j in jobs if j.worker_id}
    return {
        "version": version,
        "columns": list(COLUMNS),
        "rows": [row(j) for j in placed],
        "workers": workers,
        "stages": stage_names or {},
        "unplaced": [{"id": j.id, "title": j.title, "address": j.address} for j in jobs if j.point is None],
        "total": len(jobs),
    }


def stage_names(lang: str) -> dict:
    """"pipeline:stage" → {name, color} in the user's language, from the manifest."""
    out = {}
    for p in load().pipelines:
        for s in p["stages"]:
            out[f"{p['key']}:{s['key']}"] = {"name": s["name"].get(lang) or s["name"]["ru"], "color": s.get("color"),
                                             "pipeline": p["name"].get(lang) or p["name"]["ru"]}
    return out
