"""Our own tables for the worker's phone (Alembic branch ``field``, migration field_0001).

``field_actions``: one row per action the phone sent, keyed by (portal, the id the phone generated when the
worker tapped). A phone that lost its answer, or sends its offline queue twice, replays the same id: the
row says the action was applied and nothing is done again. An action that failed half-way (the portal
moved the deal but refused the task) keeps the portal steps it completed in ``steps``; its retry does only
the rest. A second copy arriving while the first is being applied waits for its lease (``busy``).

``field_jobs``: per job (or visit) the worker's taps — on my way, started, finished, check-in/out — and the
minutes they give: travel = started − on my way (else since the previous finish / shift start, maps.stats),
on site = finished − started."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from b24app.store.sql import _insert

metadata = sa.MetaData()
t_actions = sa.Table(
    "field_actions", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("action_id", sa.String(64), primary_key=True),
    sa.Column("worker_id", sa.BigInteger), sa.Column("item_kind", sa.String(32)), sa.Column("item_id", sa.BigInteger),
    sa.Column("action", sa.String(32)), sa.Column("digest", sa.String(64)), sa.Column("status", sa.String(16)),
    sa.Column("steps", sa.Text), sa.Column("lease_until", sa.Float),
    sa.Column("tapped_at", sa.DateTime(timezone=True)), sa.Column("received_at", sa.DateTime(timezone=True)),
    sa.Column("lat", sa.Float), sa.Column("lon", sa.Float), sa.Column("error", sa.String(500)))
t_jobs = sa.Table(
    "field_jobs", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("item_kind", sa.String(32), primary_key=True),
    sa.Column("item_id", sa.BigInteger, primary_key=True), sa.Column("worker_id", sa.BigInteger),
    sa.Column("on_way_at", sa.DateTime(timezone=True)), sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)), sa.Column("checked_in_at", sa.DateTime(timezone=True)),
    sa.Column("checked_out_at", sa.DateTime(timezone=True)), sa.Column("travel_minutes", sa.Integer),
    sa.Column("on_site_minutes", sa.Integer), sa.Column("files", sa.Integer), sa.Column("comments", sa.Integer))

LEASE_SECONDS = 60
TIME_COLUMNS = ("on_way_at", "started_at", "finished_at", "checked_in_at", "checked_out_at")


def digest(body: dict) -> str:
    """What the phone sent for one action id, as a hash: the same id with other content is not a replay."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)          # SQLite gives naive UTC back


@dataclass
class Claim:
    """``new`` (first arrival) / ``resume`` (an earlier try failed or was abandoned: go on from ``steps``) →
    apply it; ``done`` → a replay, answer from ``steps``; ``busy`` → another copy is being applied now;
    ``conflict`` → the id was used for a different action."""
    state: str
    steps: dict = field(default_factory=dict)


class FieldLedger:
    """Per-portal access to the field tables; small explicit statements, no ORM state."""

    def __init__(self, engine: sa.Engine, member_id: str, clock=time.time):
        self.engine, self.member_id, self.clock = engine, member_id, clock

    def _key(self, action_id: str):
        return sa.and_(t_actions.c.member_id == self.member_id, t_actions.c.action_id == action_id)

    def claim(self, action_id: str, *, worker_id: int, item_kind: str, item_id: int, action: str, digest: str,
              tapped_at: datetime, lat: float | None = None, lon: float | None = None) -> Claim:
        now = self.clock()
        with self.engine.begin() as c:
            ins = _insert(self.engine, t_actions).values(
                member_id=self.member_id, action_id=action_id, worker_id=int(worker_id), item_kind=item_kind,
                item_id=int(item_id), action=action, digest=digest, status="running", steps="{}",
                lease_until=now + LEASE_SECONDS, tapped_at=tapped_at, received_at=datetime.fromtimestamp(now, UTC),
                lat=lat, lon=lon).on_conflict_do_nothing(index_elements=["member_id", "action_id"]) \
                .returning(t_actions.c.action_id)         # rowcount is unreliable with ON CONFLICT on PostgreSQL
            if c.execute(ins).first() is not None:
                return Claim("new")
            row = c.execute(sa.select(t_actions).where(self._key(action_id))).one()
            steps = json.loads(row.steps or "{}")
            if row.digest != digest or int(row.worker_id) != int(worker_id):
                return Claim("conflict", steps)
            if row.status == "done":
                return Claim("done", steps)
            if row.status == "running" and row.lease_until > now:
                return Claim("busy", steps)
            took = c.execute(sa.update(t_actions).where(
                self._key(action_id), t_actions.c.status == row.status, t_actions.c.lease_until == row.lease_until,
            ).values(status="running", lease_until=now + LEASE_SECONDS, error=None)).rowcount
            return Claim("resume" if took == 1 else "busy", steps)

    def get(self, action_id: str) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(t_actions).where(self._key(action_id))).first()
        if row is None:
            return None
        d = dict(row._mapping)
        d["steps"] = json.loads(d["steps"] or "{}")
        return d

    def step(self, action_id: str, name: str, value) -> None:
        """A portal step of this action is done (kept before the next one runs)."""
        with self.engine.begin() as c:
            row = c.execute(sa.select(t_actions.c.steps).where(self._key(action_id))).one()
            steps = json.loads(row.steps or "{}")
            steps[name] = value
            c.execute(sa.update(t_actions).where(self._key(action_id)).values(
                steps=json.dumps(steps, ensure_ascii=False), lease_until=self.clock() + LEASE_SECONDS))

    def finish(self, action_id: str, error: str | None = None) -> None:
        with self.engine.begin() as c:
            c.execute(sa.update(t_actions).where(self._key(action_id)).values(
                status="failed" if error else "done", error=(error or None) and error[:500], lease_until=0))

    def actions(self, worker_id: int | None = None, item_kind: str | None = None, item_id: int | None = None,
                status: str | None = None) -> list[dict]:
        q = sa.select(t_actions).where(t_actions.c.member_id == self.member_id)
        if worker_id is not None:
            q = q.where(t_actions.c.worker_id == int(worker_id))
        if item_kind is not None:
            q = q.where(t_actions.c.item_kind == item_kind)
        if item_id is not None:
            q = q.where(t_actions.c.item_id == int(item_id))
        if status is not None:
            q = q.where(t_actions.c.status == status)
        with self.engine.connect() as c:
            rows = [dict(r._mapping) for r in c.execute(q.order_by(t_actions.c.received_at, t_actions.c.action_id))]
        for r in rows:
            r["steps"] = json.loads(r["steps"] or "{}")
            r["tapped_at"], r["received_at"] = aware(r["tapped_at"]), aware(r["received_at"])
        return rows

    # --- jobs -------------------------------------------------------------------------------------------
    def job(self, item_kind: str, item_id: int) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(t_jobs).where(
                t_jobs.c.member_id == self.member_id, t_jobs.c.item_kind == item_kind,
                t_jobs.c.item_id == int(item_id))).first()
        return _job(row) if row is not None else None

    def jobs(self, worker_id: int) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_jobs).where(t_jobs.c.member_id == self.member_id,
                                                     t_jobs.c.worker_id == int(worker_id))).all()
        return [_job(r) for r in rows]

    def set_job(self, item_kind: str, item_id: int, worker_id: int, *, add_files: int = 0, add_comments: int = 0,
                **values) -> dict:
        """Upsert the job's taps (only the columns given change); ``add_*`` count attachments."""
        with self.engine.begin() as c:
            key = sa.and_(t_jobs.c.member_id == self.member_id, t_jobs.c.item_kind == item_kind,
                          t_jobs.c.item_id == int(item_id))
            ins = _insert(self.engine, t_jobs).values(
                member_id=self.member_id, item_kind=item_kind, item_id=int(item_id), worker_id=int(worker_id),
                files=0, comments=0).on_conflict_do_nothing(index_elements=["member_id", "item_kind", "item_id"])
            c.execute(ins)
            upd = dict(values, worker_id=int(worker_id))
            if add_files:
                upd["files"] = t_jobs.c.files + int(add_files)
            if add_comments:
                upd["comments"] = t_jobs.c.comments + int(add_comments)
            c.execute(sa.update(t_jobs).where(key).values(**upd))
            return _job(c.execute(sa.select(t_jobs).where(key)).one())


def _job(row) -> dict:
    d = dict(row._mapping)
    for k in TIME_COLUMNS:
        d[k] = aware(d[k])
    return d
