"""Orders that are not on the map, for the dispatcher's "place it by hand" list.

``records``: addresses the geocoder could not place (their status says why); ``pending``: open jobs with
no coordinates and no failed record yet (status no_address, or pending while geocoding is queued). Deal
titles come from the cached current jobs, so the list costs no extra portal call.
"""
from __future__ import annotations

from maps import service
from maps.geocache_sql import failed_records


def listing(services, member_id: str) -> dict:
    _, current = service.jobs(services, member_id)
    by_id = {j.id: j for j in current}
    records = []
    for r in failed_records(services.store.engine, member_id):
        j = by_id.get(int(r["entity_id"])) if r["entity"] == "deal" else None
        records.append({**r, "title": j.title if j else "", "pipeline": j.pipeline if j else ""})
    failed = {int(r["entity_id"]) for r in records if r["entity"] == "deal"}
    pending = [{"entity": "deal", "entity_id": j.id, "title": j.title, "address": j.address, "pipeline": j.pipeline,
                "status": "pending" if j.address else "no_address"}
               for j in current if j.point is None and j.id not in failed]
    return {"records": records, "pending": pending}
