"""Small per-portal facts the map needs from our own database: a change version (so every open map
re-fetches only when something moved) and when each job was actually started and finished (for travel
and on-site statistics; written by the Start/Finish job robots)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from maps.geocache_sql import _upsert

metadata = sa.MetaData()
t_versions = sa.Table("maps_versions", metadata, sa.Column("member_id", sa.String(64), primary_key=True),
                      sa.Column("version", sa.BigInteger))
t_facts = sa.Table(
    "maps_job_facts", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("worker_id", sa.BigInteger), sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)), sa.Column("actual_minutes", sa.Integer),
    sa.Column("travel_minutes", sa.Integer),
)


def version(engine: sa.Engine, member_id: str) -> int:
    with engine.connect() as c:
        v = c.execute(sa.select(t_versions.c.version).where(t_versions.c.member_id == member_id)).scalar()
    return int(v or 0)


def bump(engine: sa.Engine, member_id: str) -> int:
    """Something on this portal's map changed (a deal, an assignment, a geocode): open maps re-fetch."""
    with engine.begin() as c:
        c.execute(_bump_stmt(engine, member_id))
        return int(c.execute(sa.select(t_versions.c.version).where(t_versions.c.member_id == member_id)).scalar())


def _bump_stmt(engine, member_id):
    insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert
    return insert(t_versions).values(member_id=member_id, version=1).on_conflict_do_update(
        index_elements=[t_versions.c.member_id], set_={"version": t_versions.c.version + 1})


def job_started(engine: sa.Engine, member_id: str, deal_id: int, at: datetime, worker_id: int | None,
                travel_minutes: int | None = None) -> None:
    with engine.begin() as c:
        c.execute(_upsert(engine, t_facts, {"member_id": member_id, "deal_id": int(deal_id), "worker_id": worker_id,
                                            "started_at": at, "finished_at": None, "actual_minutes": None,
                                            "travel_minutes": travel_minutes},
                          ["member_id", "deal_id"]))


def job_finished(engine: sa.Engine, member_id: str, deal_id: int, at: datetime, minutes: int | None) -> None:
    with engine.begin() as c:
        c.execute(_upsert(engine, t_facts, {"member_id": member_id, "deal_id": int(deal_id),
                                            "finished_at": at, "actual_minutes": minutes}, ["member_id", "deal_id"]))


def job_facts(engine: sa.Engine, member_id: str) -> list[dict]:
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(sa.select(t_facts).where(t_facts.c.member_id == member_id))]
