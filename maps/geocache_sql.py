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
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
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
