"""Our own tables for rules (Alembic branch ``rules``).

The ledger is keyed by (rule, entity, occurrence): a replayed event, a second scheduler pass or a restarted
scheduler finds the row and does not act again. A row is *claimed* before the first action (status
running, a lease), its ``step`` moves on after each action, and it ends ``done``. An action that raised
leaves it ``failed`` at the step it reached; a process that died leaves it ``running`` past its lease.
Either way the next evaluation takes it over and resumes at ``step``: completed actions are never
repeated, only the one that was in flight when a process died may be (at most once more).

Order numbers: one counter row per (portal, counter, year) incremented in the transaction that records
the number given to the entity; a number is never handed out twice and never reused (a deleted deal's
number stays taken; the counter only grows).
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from b24app.store.sql import _insert

metadata = sa.MetaData()
t_ledger = sa.Table(
    "rules_ledger", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("rule_id", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(16), primary_key=True), sa.Column("entity_id", sa.BigInteger, primary_key=True),
    sa.Column("occurrence", sa.String(200), primary_key=True), sa.Column("status", sa.String(16)),
    sa.Column("step", sa.Integer), sa.Column("lease_until", sa.Float), sa.Column("error", sa.String(500)),
    sa.Column("created_at", sa.DateTime(timezone=True)), sa.Column("updated_at", sa.DateTime(timezone=True)))
t_seen = sa.Table(
    "rules_seen", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("entity", sa.String(16), primary_key=True),
    sa.Column("entity_id", sa.BigInteger, primary_key=True), sa.Column("state", sa.JSON),
    sa.Column("updated_at", sa.DateTime(timezone=True)))
t_counters = sa.Table(
    "rules_counters", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("counter", sa.String(32), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True), sa.Column("last_n", sa.BigInteger))
t_numbers = sa.Table(
    "rules_numbers", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("counter", sa.String(32), primary_key=True),
    sa.Column("entity", sa.String(16), primary_key=True), sa.Column("entity_id", sa.BigInteger, primary_key=True),
    sa.Column("year", sa.Integer), sa.Column("n", sa.BigInteger), sa.Column("value", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True)))

LEASE_SECONDS = 300.0
RUNNING, DONE, FAILED, SKIPPED = "running", "done", "failed", "skipped"


def _now() -> datetime:
    return datetime.now(UTC)


class Claim:
    """One occurrence this process may act on, from ``step`` on."""

    def __init__(self, ledger: "RulesLedger", key: tuple, step: int):
        self.ledger, self.key, self.step = ledger, key, step

    def advance(self) -> None:
        self.step += 1
        self.ledger._update(self.key, step=self.step, lease_until=self.ledger.clock() + LEASE_SECONDS)

    def done(self) -> None:
        self.ledger._update(self.key, status=DONE, step=self.step, error=None)

    def failed(self, error: str) -> None:
        self.ledger._update(self.key, status=FAILED, step=self.step, error=str(error)[:500])


class RulesLedger:
    def __init__(self, engine: sa.Engine, member_id: str, clock=time.time):
        self.engine, self.member_id, self.clock = engine, member_id, clock

    # --- the firing ledger -----------------------------------------------------------------------------
    def _key_where(self, key: tuple):
        rule_id, entity, entity_id, occurrence = key
        c = t_ledger.c
        return sa.and_(c.member_id == self.member_id, c.rule_id == rule_id, c.entity == entity,
                       c.entity_id == int(entity_id), c.occurrence == occurrence)

    def _update(self, key: tuple, **values) -> None:
        with self.engine.begin() as c:
            c.execute(t_ledger.update().where(self._key_where(key)).values(updated_at=_now(), **values))

    def skip(self, rule_id: str, entity: str, entity_id: int, occurrence: str) -> bool:
        """Record an occurrence as passed over (a reminder missed while the scheduler was down): it is never
        acted on. False = the ledger already had it."""
        return self.claim(rule_id, entity, entity_id, occurrence, skip=True) is not None

    def done_many(self, claims: list) -> None:
        """``Claim.done`` of many claims in one transaction (the scheduler's flush)."""
        if not claims:
            return
        c_, now = t_ledger.c, _now()
        stmt = (t_ledger.update()
                .where(c_.member_id == sa.bindparam("m"), c_.rule_id == sa.bindparam("r"),
                       c_.entity == sa.bindparam("e"), c_.entity_id == sa.bindparam("i"),
                       c_.occurrence == sa.bindparam("o"))
                .values(status=DONE, step=sa.bindparam("s"), error=None, updated_at=now))
        with self.engine.begin() as c:
            c.execute(stmt, [{"m": self.member_id, "r": k.key[0], "e": k.key[1], "i": int(k.key[2]), "o": k.key[3],
                              "s": k.step} for k in claims])

    def skip_rows(self, items: list[tuple[str, str, int, str]]) -> int:
        """Many (rule, entity, id, occurrence) recorded skipped in one transaction; how many were new."""
        if not items:
            return 0
        now, wall, n = _now(), self.clock(), 0
        with self.engine.begin() as c:
            for start in range(0, len(items), 500):
                rows = [dict(member_id=self.member_id, rule_id=r, entity=e, entity_id=int(i), occurrence=o[:200],
                             status=SKIPPED, step=0, lease_until=wall, created_at=now, updated_at=now)
                        for r, e, i, o in items[start:start + 500]]
                n += len(c.execute(_insert(self.engine, t_ledger).values(rows).on_conflict_do_nothing()
                                   .returning(t_ledger.c.occurrence)).all())
        return n

    def skip_many(self, rule_id: str, entity: str, entity_id: int, occurrences: list[str]) -> int:
        """``skip`` for several occurrences of one entity in one statement (the missed repeats of a reminder);
        returns how many were new."""
        if not occurrences:
            return 0
        now, wall = _now(), self.clock()
        rows = [dict(member_id=self.member_id, rule_id=rule_id, entity=entity, entity_id=int(entity_id),
                     occurrence=o[:200], status=SKIPPED, step=0, lease_until=wall, created_at=now, updated_at=now)
                for o in occurrences]
        with self.engine.begin() as c:
            got = c.execute(_insert(self.engine, t_ledger).values(rows).on_conflict_do_nothing()
                            .returning(t_ledger.c.occurrence)).all()
        return len(got)

    def claim(self, rule_id: str, entity: str, entity_id: int, occurrence: str, *,
              skip: bool = False) -> Claim | None:
        """The right to act on this occurrence, or None (done already, or another process is on it)."""
        key = (rule_id, entity, int(entity_id), occurrence[:200])
        now, wall = _now(), self.clock()
        row = dict(member_id=self.member_id, rule_id=rule_id, entity=entity, entity_id=int(entity_id),
                   occurrence=key[3], status=SKIPPED if skip else RUNNING, step=0,
                   lease_until=wall + LEASE_SECONDS, created_at=now, updated_at=now)
        with self.engine.begin() as c:
            got = c.execute(_insert(self.engine, t_ledger).values(**row).on_conflict_do_nothing()
                            .returning(t_ledger.c.step)).first()
        if got is not None:
            return Claim(self, key, 0)
        if skip:
            return None
        c_ = t_ledger.c
        takeover = (t_ledger.update()
                    .where(self._key_where(key),
                           sa.or_(c_.status == FAILED, sa.and_(c_.status == RUNNING, c_.lease_until < wall)))
                    .values(status=RUNNING, lease_until=wall + LEASE_SECONDS, updated_at=now)
                    .returning(c_.step))
        with self.engine.begin() as c:
            got = c.execute(takeover).first()       # one UPDATE: two takers cannot both win
        return None if got is None else Claim(self, key, int(got[0] or 0))

    def settled(self, rule_id: str, entity: str) -> set[tuple[int, str]]:
        """(entity id, occurrence) of one rule's rows that are done or skipped — what a pass never has to
        claim again (one read per rule instead of one INSERT attempt per due entity)."""
        c_ = t_ledger.c
        with self.engine.connect() as c:
            rows = c.execute(sa.select(c_.entity_id, c_.occurrence).where(
                c_.member_id == self.member_id, c_.rule_id == rule_id, c_.entity == entity,
                c_.status.in_((DONE, SKIPPED))))
            return {(int(r[0]), r[1]) for r in rows}

    def unfinished(self) -> set[tuple[str, int, str]]:
        """(rule, entity id, occurrence) of rows that started and did not finish (few: failures and crashes)."""
        c_ = t_ledger.c
        with self.engine.connect() as c:
            rows = c.execute(sa.select(c_.rule_id, c_.entity_id, c_.occurrence).where(
                c_.member_id == self.member_id, c_.status.in_((RUNNING, FAILED))))
            return {(r[0], int(r[1]), r[2]) for r in rows}

    def rows(self, entity_id: int | None = None) -> list[dict]:
        q = sa.select(t_ledger).where(t_ledger.c.member_id == self.member_id)
        if entity_id is not None:
            q = q.where(t_ledger.c.entity_id == int(entity_id))
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(q.order_by(t_ledger.c.created_at))]

    # --- last state seen per entity ----------------------------------------------------------------------
    def seen(self, entity: str, entity_id: int) -> dict | None:
        with self.engine.connect() as c:
            v = c.execute(sa.select(t_seen.c.state).where(
                t_seen.c.member_id == self.member_id, t_seen.c.entity == entity,
                t_seen.c.entity_id == int(entity_id))).scalar()
        return dict(v) if v else None

    def save_seen(self, entity: str, entity_id: int, state: dict) -> None:
        ins = _insert(self.engine, t_seen).values(member_id=self.member_id, entity=entity, entity_id=int(entity_id),
                                                  state=state, updated_at=_now())
        with self.engine.begin() as c:
            c.execute(ins.on_conflict_do_update(index_elements=[t_seen.c.member_id, t_seen.c.entity,
                                                                t_seen.c.entity_id],
                                                set_={"state": state, "updated_at": _now()}))

    # --- order numbers ---------------------------------------------------------------------------------
    def number_of(self, counter: str, entity: str, entity_id: int) -> dict | None:
        n = t_numbers.c
        with self.engine.connect() as c:
            r = c.execute(sa.select(n.year, n.n, n.value).where(
                n.member_id == self.member_id, n.counter == counter, n.entity == entity,
                n.entity_id == int(entity_id))).first()
        return dict(r._mapping) if r else None

    def assign_number(self, counter: str, entity: str, entity_id: int, year: int, render) -> dict:
        """The entity's number (given once): ``render(year, n) -> value``. The counter row is bumped with
        ``UPDATE … RETURNING`` in the transaction that records the number, so concurrent workers serialise
        on that row (PostgreSQL row lock; SQLite: one writer, BEGIN IMMEDIATE)."""
        for _ in range(5):
            have = self.number_of(counter, entity, entity_id)
            if have:
                return have
            ct = t_counters.c
            try:
                with self.engine.begin() as c:
                    c.execute(_insert(self.engine, t_counters)
                              .values(member_id=self.member_id, counter=counter, year=int(year), last_n=0)
                              .on_conflict_do_nothing())
                    n = c.execute(t_counters.update()
                                  .where(ct.member_id == self.member_id, ct.counter == counter, ct.year == int(year))
                                  .values(last_n=ct.last_n + 1).returning(ct.last_n)).scalar_one()
                    value = render(int(year), int(n))
                    c.execute(t_numbers.insert().values(member_id=self.member_id, counter=counter, entity=entity,
                                                        entity_id=int(entity_id), year=int(year), n=int(n),
                                                        value=value, created_at=_now()))
                return {"year": int(year), "n": int(n), "value": value}
            except IntegrityError:      # another worker numbered this entity meanwhile: its number stands
                continue
        raise RuntimeError(f"could not number {entity} {entity_id}")
