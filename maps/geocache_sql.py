"""The geocoding cache on our own database (tables of the ``maps`` Alembic branch, maps_0001).

Why two tables: what Nominatim says about an address is the same for every portal, so that answer is
cached deployment-wide (one lookup per building, whoever asked first — the public server allows one
request per second for the whole application); a dispatcher's manual pin is one portal's opinion and is
kept per portal, so it wins for that portal only. ``maps_records`` remembers which CRM record had which
address geocoded — that is how a record is geocoded once and how a portal gets its "not on the map" list.
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from maps.geocode import MANUAL, GeoResult

metadata = sa.MetaData()
t_cache = sa.Table(
    "maps_geocache", metadata,
    sa.Column("key", sa.String(512), primary_key=True), sa.Column("address", sa.Text),
    sa.Column("status", sa.String(16)), sa.Column("lat", sa.Float), sa.Column("lon", sa.Float),
    sa.Column("display_name", sa.Text), sa.Column("provider", sa.String(64)), sa.Column("at", sa.Float),
    sa.Column("error", sa.Text),
)
t_pins = sa.Table(
    "maps_pins", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("address", sa.Text), sa.Column("lat", sa.Float), sa.Column("lon", sa.Float), sa.Column("at", sa.Float),
)
t_records = sa.Table(
    "maps_records", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("entity", sa.String(16), primary_key=True),
    sa.Column("entity_id", sa.BigInteger, primary_key=True), sa.Column("key", sa.String(512)),
    sa.Column("address", sa.Text), sa.Column("status", sa.String(16)), sa.Column("at", sa.Float),
)


def _upsert(engine: sa.Engine, table: sa.Table, values: dict, keys: list[str]):
    insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert
    stmt = insert(table).values(**values)
    return stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                      set_={k: v for k, v in values.items() if k not in keys})


def _row_result(r) -> GeoResult:
    return GeoResult(r.address, r.key, r.status, r.lat, r.lon, display_name=r.display_name or "",
                     provider=r.provider or "", at=r.at or 0.0, error=r.error or "")


class SqlGeoCache:
    """``maps.geocode.GeoCache`` for one portal: its pins first, then the shared provider answers."""

    def __init__(self, engine: sa.Engine, member_id: str | None = None):
        self.engine, self.member_id = engine, member_id

    def get(self, key: str) -> GeoResult | None:
        with self.engine.connect() as c:
            if self.member_id:
                pin = c.execute(sa.select(t_pins).where(t_pins.c.member_id == self.member_id,
                                                        t_pins.c.key == key)).first()
                if pin is not None:
                    return GeoResult(pin.address, key, MANUAL, pin.lat, pin.lon, provider="manual", at=pin.at)
            row = c.execute(sa.select(t_cache).where(t_cache.c.key == key)).first()
        return _row_result(row) if row is not None else None

    def put(self, key: str, result: GeoResult) -> None:
        with self.engine.begin() as c:
            if result.status == MANUAL:
                if not self.member_id:
                    raise ValueError("a manual pin belongs to a portal: SqlGeoCache(engine, member_id)")
                c.execute(_upsert(self.engine, t_pins, {"member_id": self.member_id, "key": key,
                                                        "address": result.address, "lat": result.lat,
                                                        "lon": result.lon, "at": result.at}, ["member_id", "key"]))
                return
            c.execute(_upsert(self.engine, t_cache, {
                "key": key, "address": result.address, "status": result.status, "lat": result.lat,
                "lon": result.lon, "display_name": result.display_name, "provider": result.provider,
                "at": result.at, "error": result.error}, ["key"]))

    def failures(self) -> list[GeoResult]:
        """Addresses that could not be placed; for a portal only those its own records use."""
        q = sa.select(t_cache).where(t_cache.c.status.notin_(("ok", MANUAL)))
        if self.member_id:
            used = sa.select(t_records.c.key).where(t_records.c.member_id == self.member_id)
            pinned = sa.select(t_pins.c.key).where(t_pins.c.member_id == self.member_id)
            q = q.where(t_cache.c.key.in_(used), t_cache.c.key.notin_(pinned))
        with self.engine.connect() as c:
            return [_row_result(r) for r in c.execute(q.order_by(t_cache.c.at))]


# --------------------------------------------------------------------------- per-record state


def record_state(engine: sa.Engine, member_id: str, entity: str, entity_id: int) -> dict | None:
    with engine.connect() as c:
        r = c.execute(sa.select(t_records).where(t_records.c.member_id == member_id, t_records.c.entity == entity,
                                                 t_records.c.entity_id == int(entity_id))).first()
    return dict(r._mapping) if r is not None else None


def save_record(engine: sa.Engine, member_id: str, entity: str, entity_id: int, result: GeoResult) -> None:
    with engine.begin() as c:
        c.execute(_upsert(engine, t_records, {"member_id": member_id, "entity": entity, "entity_id": int(entity_id),
                                              "key": result.key, "address": result.address,
                                              "status": result.status, "at": result.at or time.time()},
                          ["member_id", "entity", "entity_id"]))


def failed_records(engine: sa.Engine, member_id: str) -> list[dict]:
    """The portal's records whose address is not on the map: what the dispatcher has to fix."""
    q = (sa.select(t_records).where(t_records.c.member_id == member_id,
                                    t_records.c.status.notin_(("ok", MANUAL)))
         .order_by(t_records.c.entity, t_records.c.entity_id))
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(q)]


# --------------------------------------------------------------------------- deployment-wide rate limit

t_limits = sa.Table("maps_rate_limits", metadata, sa.Column("name", sa.String(64), primary_key=True),
                    sa.Column("next_at", sa.Float))


class SqlRateLimiter:
    """``maps.geocode.RateLimiter`` shared by every process on the database: one row per limited service
    holds the next allowed time. A caller reserves the next slot in a short transaction — the row is
    locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions here are ``BEGIN IMMEDIATE``, one
    writer at a time) — then sleeps until its slot *outside* the transaction, so waiting callers hold
    no lock and still leave one by one, ``min_interval`` apart.

    The clock is wall time (``time.time``), the one clock all processes on a host share; ``clock`` and
    ``sleep`` are injectable for tests. Slots are ``min_interval + margin`` apart: a caller wakes a few
    milliseconds after its slot, and the margin keeps the *requests* (not just the slots) a full
    ``min_interval`` apart when the one before it woke late.
    """

    def __init__(self, engine: sa.Engine, name: str = "nominatim", min_interval: float = 1.0, *,
                 margin: float = 0.05, clock=time.time, sleep=time.sleep):
        self.engine, self.name, self.min_interval = engine, name, float(min_interval)
        self.step = float(min_interval) + (float(margin) if min_interval > 0 else 0.0)
        self.clock, self.sleep = clock, sleep

    def reserve(self) -> float:
        """Take the next slot; returns when it is (clock time)."""
        with self.engine.begin() as c:
            q = sa.select(t_limits.c.next_at).where(t_limits.c.name == self.name)
            if self.engine.dialect.name == "postgresql":
                q = q.with_for_update()
            row = c.execute(q).first()
            if row is None:
                c.execute(_insert_ignore(self.engine, t_limits, {"name": self.name, "next_at": 0.0}))
                row = c.execute(q).first()
            now = self.clock()
            slot = max(now, float(row.next_at or 0.0))
            c.execute(t_limits.update().where(t_limits.c.name == self.name)
                      .values(next_at=slot + self.step))
        return slot

    def wait(self) -> float:
        """Block until this caller's slot; returns the slot (clock time)."""
        slot = self.reserve()
        delay = slot - self.clock()
        if delay > 0:
            self.sleep(delay)
        return slot


def _insert_ignore(engine: sa.Engine, table: sa.Table, values: dict):
    """First use of a limiter name from two processes at once: one insert wins, the other does nothing."""
    insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert
    return insert(table).values(**values).on_conflict_do_nothing(index_elements=[table.c.name])
