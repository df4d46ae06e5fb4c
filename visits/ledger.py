"""Our own tables for visits (Alembic branch ``visits``): which rule fired for which visit date, which
calendar event mirrors which visit, and when a person last touched a visit (from the portal's events).

Why a ledger: the rules are time-driven, so the same item matches a rule on every sweep until it moves;
the ledger makes a rule fire once per (visit, rule, visit date) even if a person moves the item back."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa

from b24app.store.sql import _insert

metadata = sa.MetaData()
t_ledger = sa.Table(
    "visits_rule_ledger", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("item_id", sa.BigInteger, primary_key=True),
    sa.Column("rule", sa.String(32), primary_key=True), sa.Column("date_key", sa.String(32), primary_key=True),
    sa.Column("from_stage", sa.String(64)), sa.Column("to_stage", sa.String(64)),
    sa.Column("fired_at", sa.DateTime(timezone=True)))
t_calendar = sa.Table(
    "visits_calendar", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("item_id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.BigInteger), sa.Column("owner_id", sa.BigInteger), sa.Column("date_from", sa.String(40)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("content", sa.String(64)))         # hash of the event's name + description (visits_0003)
t_dirty = sa.Table(
    "visits_calendar_dirty", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("item_id", sa.BigInteger, primary_key=True),
    sa.Column("deleted", sa.Boolean), sa.Column("marked_at", sa.Float))
t_touch = sa.Table(
    "visits_touch", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("item_id", sa.BigInteger, primary_key=True),
    sa.Column("touched_at", sa.Float))


def _now() -> datetime:
    return datetime.now(UTC)


class VisitsLedger:
    """Per-portal access to the visits tables; small explicit statements, no ORM state."""

    def __init__(self, engine: sa.Engine, member_id: str):
        self.engine, self.member_id = engine, member_id

    # --- rules ------------------------------------------------------------------------------------------
    def fired(self, keys: list[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
        """Which of (item_id, rule, date_key) already fired."""
        if not keys:
            return set()
        ids = sorted({k[0] for k in keys})
        out: set = set()
        with self.engine.connect() as c:
            for i in range(0, len(ids), 500):
                rows = c.execute(sa.select(t_ledger.c.item_id, t_ledger.c.rule, t_ledger.c.date_key).where(
                    t_ledger.c.member_id == self.member_id, t_ledger.c.item_id.in_(ids[i:i + 500])))
                out.update((int(r[0]), r[1], r[2]) for r in rows)
        return out & set(keys)

    def record(self, fires: list[dict]) -> None:
        """fires: {item_id, rule, date_key, from_stage, to_stage}; a repeat is ignored."""
        if not fires:
            return
        now = _now()
        with self.engine.begin() as c:
            for f in fires:
                c.execute(_insert(self.engine, t_ledger).values(member_id=self.member_id, fired_at=now, **f)
                          .on_conflict_do_nothing())

    def history(self, item_id: int) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_ledger).where(t_ledger.c.member_id == self.member_id,
                                                       t_ledger.c.item_id == int(item_id))
                             .order_by(t_ledger.c.fired_at))
            return [dict(r._mapping) for r in rows]

    # --- human touches ----------------------------------------------------------------------------------
    def touch(self, item_id: int, at: float | None = None) -> None:
        at = time.time() if at is None else at
        stmt = _insert(self.engine, t_touch).values(member_id=self.member_id, item_id=int(item_id), touched_at=at)
        stmt = stmt.on_conflict_do_update(index_elements=[t_touch.c.member_id, t_touch.c.item_id],
                                          set_={"touched_at": at})
        with self.engine.begin() as c:
            c.execute(stmt)

    def touched_since(self, since: float) -> set[int]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_touch.c.item_id).where(t_touch.c.member_id == self.member_id,
                                                                t_touch.c.touched_at >= since))
            return {int(r[0]) for r in rows}

    # --- calendar links ---------------------------------------------------------------------------------
    def event_of(self, item_id: int) -> dict | None:
        with self.engine.connect() as c:
            r = c.execute(sa.select(t_calendar).where(t_calendar.c.member_id == self.member_id,
                                                      t_calendar.c.item_id == int(item_id))).first()
            return dict(r._mapping) if r else None

    def visit_of_event(self, event_id: int) -> dict | None:
        """The visit a calendar event of ours stands for (calendar → visit: ONCALENDARENTRYUPDATE)."""
        with self.engine.connect() as c:
            r = c.execute(sa.select(t_calendar).where(t_calendar.c.member_id == self.member_id,
                                                      t_calendar.c.event_id == int(event_id))).first()
            return dict(r._mapping) if r else None

    def link_event(self, item_id: int, event_id: int, owner_id: int | None, date_from: str,
                   content: str | None = None) -> None:
        values = {"event_id": int(event_id), "owner_id": owner_id, "date_from": date_from, "updated_at": _now(),
                  "content": content}
        stmt = _insert(self.engine, t_calendar).values(member_id=self.member_id, item_id=int(item_id), **values)
        stmt = stmt.on_conflict_do_update(index_elements=[t_calendar.c.member_id, t_calendar.c.item_id], set_=values)
        with self.engine.begin() as c:
            c.execute(stmt)

    def unlink_event(self, item_id: int) -> None:
        with self.engine.begin() as c:
            c.execute(sa.delete(t_calendar).where(t_calendar.c.member_id == self.member_id,
                                                  t_calendar.c.item_id == int(item_id)))

    # --- calendar work queue ----------------------------------------------------------------------------
    def mark_dirty(self, item_id: int, deleted: bool = False) -> None:
        """An event said the visit changed (or is gone); its calendar event is checked in the next drain."""
        at = time.time()
        values = {"deleted": deleted, "marked_at": at}
        stmt = _insert(self.engine, t_dirty).values(member_id=self.member_id, item_id=int(item_id), **values)
        stmt = stmt.on_conflict_do_update(index_elements=[t_dirty.c.member_id, t_dirty.c.item_id], set_=values)
        with self.engine.begin() as c:
            c.execute(stmt)

    def dirty(self, limit: int = 2500) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_dirty).where(t_dirty.c.member_id == self.member_id)
                             .order_by(t_dirty.c.marked_at).limit(limit))
            return [dict(r._mapping) for r in rows]

    def clear_dirty(self, rows: list[dict]) -> None:
        """Removes what was drained — unless it was marked again meanwhile (then the next drain sees it)."""
        with self.engine.begin() as c:
            for r in rows:
                c.execute(sa.delete(t_dirty).where(t_dirty.c.member_id == self.member_id,
                                                   t_dirty.c.item_id == r["item_id"],
                                                   t_dirty.c.marked_at <= r["marked_at"]))

    def links(self, item_ids: list[int]) -> dict[int, dict]:
        out = {}
        with self.engine.connect() as c:
            for i in range(0, len(item_ids), 500):
                rows = c.execute(sa.select(t_calendar).where(t_calendar.c.member_id == self.member_id,
                                                             t_calendar.c.item_id.in_(item_ids[i:i + 500])))
                out.update({int(r.item_id): dict(r._mapping) for r in rows})
        return out
