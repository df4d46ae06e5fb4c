"""Orders that are not on the map, for the dispatcher's "place it by hand" list.

``records``: open jobs not on the map whose address the geocoder could not place (their status says why);
``pending``: open jobs with no coordinates and no failed record yet (status no_address, or pending while
geocoding is queued). Only jobs that are *not on the map* are listed — a job whose later re-geocode failed
keeps its coordinates and its marker, so it is not "without coordinates" — and the two lists together are
exactly the feed's ``unplaced`` (the map's "Нет координат: N" button counts the rows the panel shows).
Deal titles come from the cached current jobs, so the list costs no extra portal call.
"""
from __future__ import annotations

from maps import service
from maps.geocache_sql import failed_records


def listing(services, member_id: str) -> dict:
    _, current = service.jobs(services, member_id)
    failed = {int(r["entity_id"]): r for r in failed_records(services.store.engine, member_id)
              if r["entity"] == "deal"}
    records, pending = [], []
    for j in current:
        if j.point is not None:
            continue
        r = failed.get(j.id)
        if r is not None:
            records.append({**r, "title": j.title, "pipeline": j.pipeline})
        else:
            pending.append({"entity": "deal", "entity_id": j.id, "title": j.title, "address": j.address,
                            "pipeline": j.pipeline, "status": "pending" if j.address else "no_address"})
    return {"records": records, "pending": pending}
