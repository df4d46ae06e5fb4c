"""Our persisted copy of what 1C said and of what we wrote to Bitrix24, per portal (tables of the
`sync_1c` Alembic branch, every row keyed by `member_id`).

Why a ledger of our own: 1C has no change timestamps, so the only way to notice that a payment was
un-posted, deleted or edited is to compare it with the version we hold (idempotent by `Ref_Key`), and the
only way to write nothing when nothing changed is to compare the desired deal state with what we last
wrote. The review list holds what a person must decide (ambiguous or unmatched orders) — never guessed.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from b24app.logsafe import scrub, scrub_obj
from b24app.store.sql import _insert

from .payments import Allocation, Payment

metadata = sa.MetaData()
t_payments = sa.Table(
    "sync1c_payments", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("ref_key", sa.String(64), primary_key=True),
    sa.Column("entity_set", sa.String(128)), sa.Column("doc_date", sa.DateTime(timezone=True)),
    sa.Column("version", sa.String(64)), sa.Column("data", sa.JSON), sa.Column("commented", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True)))
t_deals = sa.Table(
    "sync1c_deals", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("order_key", sa.String(64)), sa.Column("written", sa.JSON), sa.Column("last_stage", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True)))
t_review = sa.Table(
    "sync1c_review", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("item_key", sa.String(128), primary_key=True),
    sa.Column("reason", sa.String(32)), sa.Column("detail", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True)), sa.Column("updated_at", sa.DateTime(timezone=True)))
t_cursor = sa.Table(
    "sync1c_cursor", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("window_end", sa.DateTime(timezone=True)),
    sa.Column("last_ok_at", sa.DateTime(timezone=True)), sa.Column("last_error", sa.Text),
    sa.Column("stats", sa.JSON), sa.Column("lease_owner", sa.String(64)), sa.Column("lease_until", sa.Float))


t_orders = sa.Table(
    "sync1c_orders", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("order_key", sa.String(64), primary_key=True),
    sa.Column("number", sa.String(64)), sa.Column("order_date", sa.String(32)), sa.Column("paid_1c", sa.String(32)),
    sa.Column("checked_at", sa.DateTime(timezone=True)), sa.Column("bound_deal", sa.BigInteger),
    sa.Column("noted", sa.JSON), sa.Column("updated_at", sa.DateTime(timezone=True)))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# --- Payment <-> JSON -----------------------------------------------------------------------------------
def payment_to_json(p: Payment) -> dict:
    def d(v):
        return v.isoformat() if v else None
    return {"ref_key": p.ref_key, "kind": p.kind, "amount": str(p.amount), "date": p.date.isoformat(),
            "posted": p.posted, "deleted": p.deleted, "currency": p.currency, "number": p.number,
            "entity_set": p.entity_set, "data_version": p.data_version,
            "allocations": [{"amount": str(a.amount), "order_key": a.order_key, "order_number": a.order_number,
                             "order_date": d(a.order_date), "currency": a.currency, "line_number": a.line_number}
                            for a in p.allocations]}


def payment_from_json(j: dict) -> Payment:
    def d(v):
        return datetime.fromisoformat(v) if v else None
    allocs = tuple(Allocation(amount=Decimal(a["amount"]), order_key=a["order_key"], order_number=a["order_number"],
                              order_date=d(a["order_date"]), currency=a["currency"], line_number=a["line_number"])
                   for a in j["allocations"])
    return Payment(ref_key=j["ref_key"], kind=j["kind"], amount=Decimal(j["amount"]), date=d(j["date"]),
                   posted=j["posted"], deleted=j["deleted"], currency=j["currency"], number=j["number"],
                   entity_set=j["entity_set"], data_version=j["data_version"], allocations=allocs)


def version_of(p: Payment) -> str:
    """What makes a payment 'changed' for us: every field that moves money or shows on the timeline."""
    j = payment_to_json(p)
    j.pop("data_version", None)
    return hashlib.sha256(json.dumps(j, sort_keys=True).encode()).hexdigest()[:32]


class LedgerStore:
    """Per-portal access to the sync_1c tables. Small, explicit statements; no ORM session state."""

    def __init__(self, engine: sa.Engine, member_id: str):
        self.engine, self.member_id = engine, member_id

    # --- payments -------------------------------------------------------------------------------------
    def payments(self) -> dict[str, Payment]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_payments.c.data).where(t_payments.c.member_id == self.member_id)).all()
        return {r[0]["ref_key"]: payment_from_json(r[0]) for r in rows}

    def versions(self) -> dict[str, tuple[str, str | None]]:
        """ref_key → (version, commented version)."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_payments.c.ref_key, t_payments.c.version, t_payments.c.commented)
                             .where(t_payments.c.member_id == self.member_id)).all()
        return {r[0]: (r[1], r[2]) for r in rows}

    def payments_of_order(self, order_key: str) -> list[Payment]:
        """Documents with a row for this order (a GUID: a text match narrows, the allocations decide)."""
        key = str(order_key).lower()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_payments.c.data).where(
                t_payments.c.member_id == self.member_id,
                sa.cast(t_payments.c.data, sa.Text).like(f"%{key}%"))).all()
        out = [payment_from_json(r[0]) for r in rows]
        return [p for p in out if any(a.order_key == key for a in p.allocations)]

    def held_in_window(self, start: datetime, end: datetime) -> list[Payment]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_payments.c.data).where(
                t_payments.c.member_id == self.member_id, t_payments.c.doc_date >= start,
                t_payments.c.doc_date < end)).all()
        return [payment_from_json(r[0]) for r in rows]

    def upsert_payments(self, payments: Iterable[Payment]) -> list[str]:
        """Store the latest versions; return the ref keys whose version changed (or are new). One
        executemany for all of them (10,000 single upserts were seconds of the bench's match phase)."""
        known = self.versions()
        changed, rows, now = [], {}, _now()
        for p in payments:
            v = version_of(p)
            if known.get(p.ref_key, (None,))[0] == v:
                continue
            if p.ref_key not in rows:
                changed.append(p.ref_key)
            rows[p.ref_key] = {"member_id": self.member_id, "ref_key": p.ref_key, "entity_set": p.entity_set or "",
                               "doc_date": p.date, "version": v, "data": payment_to_json(p), "updated_at": now}
        if rows:
            ins = _insert(self.engine, t_payments)
            stmt = ins.on_conflict_do_update(
                index_elements=[t_payments.c.member_id, t_payments.c.ref_key],
                set_={"entity_set": ins.excluded.entity_set, "doc_date": ins.excluded.doc_date,
                      "version": ins.excluded.version, "data": ins.excluded.data,
                      "updated_at": ins.excluded.updated_at})
            with self.engine.begin() as c:
                c.execute(stmt, list(rows.values()))
        return changed

    def forget_payments(self, ref_keys: Iterable[str]) -> None:
        keys = list(ref_keys)
        if keys:
            with self.engine.begin() as c:
                c.execute(sa.delete(t_payments).where(t_payments.c.member_id == self.member_id,
                                                      t_payments.c.ref_key.in_(keys)))

    def mark_commented(self, items: Iterable[tuple[str, str]]) -> None:
        params = [{"k": ref_key, "v": version} for ref_key, version in items]
        if not params:
            return
        stmt = (sa.update(t_payments).where(t_payments.c.member_id == self.member_id,
                                            t_payments.c.ref_key == sa.bindparam("k"))
                .values(commented=sa.bindparam("v")))
        with self.engine.begin() as c:
            c.execute(stmt, params)

    # --- deals ----------------------------------------------------------------------------------------
    def deals(self) -> dict[int, dict]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_deals).where(t_deals.c.member_id == self.member_id)).all()
        return {int(r.deal_id): {"order_key": r.order_key, "written": r.written, "last_stage": r.last_stage}
                for r in rows}

    def deal(self, deal_id: int) -> dict | None:
        with self.engine.connect() as c:
            r = c.execute(sa.select(t_deals).where(t_deals.c.member_id == self.member_id,
                                                   t_deals.c.deal_id == int(deal_id))).first()
        return None if r is None else {"order_key": r.order_key, "written": r.written, "last_stage": r.last_stage}

    def save_deal(self, deal_id: int, **values) -> None:
        """Upsert only the given columns (order_key, written, last_stage)."""
        values["updated_at"] = _now()
        ins = _insert(self.engine, t_deals).values(member_id=self.member_id, deal_id=int(deal_id), **values)
        with self.engine.begin() as c:
            c.execute(ins.on_conflict_do_update(index_elements=[t_deals.c.member_id, t_deals.c.deal_id],
                                                set_={k: ins.excluded[k] for k in values}))

    def save_deals(self, rows: list[tuple[int, dict]]) -> None:
        """`save_deal` for many deals in one transaction (one executemany per set of columns)."""
        groups: dict[tuple, list[dict]] = {}
        now = _now()
        for deal_id, values in rows:
            groups.setdefault(tuple(sorted(values)), []).append(
                {"member_id": self.member_id, "deal_id": int(deal_id), **values, "updated_at": now})
        with self.engine.begin() as c:
            for cols, params in groups.items():
                ins = _insert(self.engine, t_deals)
                c.execute(ins.on_conflict_do_update(index_elements=[t_deals.c.member_id, t_deals.c.deal_id],
                                                    set_={k: ins.excluded[k] for k in (*cols, "updated_at")}),
                          params)

    def save_stages(self, stages: dict[int, str]) -> None:
        """Remember the last seen stage of many deals at once (read anyway by the sync's deal listing)."""
        known = self.deals()
        now = _now()
        rows = [{"member_id": self.member_id, "deal_id": int(deal_id), "last_stage": stage, "updated_at": now}
                for deal_id, stage in stages.items() if (known.get(deal_id) or {}).get("last_stage") != stage]
        if rows:
            ins = _insert(self.engine, t_deals)
            stmt = ins.on_conflict_do_update(index_elements=[t_deals.c.member_id, t_deals.c.deal_id],
                                             set_={"last_stage": ins.excluded.last_stage,
                                                   "updated_at": ins.excluded.updated_at})
            with self.engine.begin() as c:
                c.execute(stmt, rows)

    # --- orders: 1C's own paid total, the admin's binding, who was told -------------------------------
    def orders(self, keys: Iterable[str] | None = None) -> dict[str, dict]:
        stmt = sa.select(t_orders).where(t_orders.c.member_id == self.member_id)
        if keys is not None:
            stmt = stmt.where(t_orders.c.order_key.in_([str(k).lower() for k in keys]))
        with self.engine.connect() as c:
            rows = c.execute(stmt).all()
        return {r.order_key: {"number": r.number, "order_date": r.order_date,
                              "paid_1c": Decimal(r.paid_1c) if r.paid_1c is not None else None,
                              "checked_at": _aware(r.checked_at), "bound_deal": r.bound_deal,
                              "noted": list(r.noted or [])} for r in rows}

    def save_orders(self, rows: Iterable[tuple[str, dict]]) -> None:
        """Upsert per order only the given columns (number, order_date, paid_1c, checked_at, bound_deal,
        noted); one executemany per set of columns."""
        groups: dict[tuple, list[dict]] = {}
        now = _now()
        for key, values in rows:
            values = {k: (str(v) if k == "paid_1c" and v is not None else v) for k, v in values.items()}
            groups.setdefault(tuple(sorted(values)), []).append(
                {"member_id": self.member_id, "order_key": str(key).lower(), **values, "updated_at": now})
        if not groups:
            return
        with self.engine.begin() as c:
            for cols, params in groups.items():
                ins = _insert(self.engine, t_orders)
                c.execute(ins.on_conflict_do_update(index_elements=[t_orders.c.member_id, t_orders.c.order_key],
                                                    set_={k: ins.excluded[k] for k in (*cols, "updated_at")}),
                          params)

    # --- review list ----------------------------------------------------------------------------------
    def set_review(self, items: dict[str, tuple[str, dict]]) -> None:
        """Replace the review list with what the latest full matching found (resolved items vanish)."""
        now = _now()
        with self.engine.begin() as c:
            old = {r[0]: r[1] for r in c.execute(sa.select(t_review.c.item_key, t_review.c.created_at)
                                                 .where(t_review.c.member_id == self.member_id)).all()}
            c.execute(sa.delete(t_review).where(t_review.c.member_id == self.member_id))
            for key, (reason, detail) in items.items():
                c.execute(sa.insert(t_review).values(member_id=self.member_id, item_key=key, reason=reason,
                                                     detail=scrub_obj(detail), created_at=old.get(key) or now,
                                                     updated_at=now))

    def review(self) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t_review).where(t_review.c.member_id == self.member_id)
                             .order_by(t_review.c.item_key)).all()
        return [{"key": r.item_key, "reason": r.reason, "detail": r.detail} for r in rows]

    # --- cursor ---------------------------------------------------------------------------------------
    def cursor(self) -> dict:
        with self.engine.connect() as c:
            r = c.execute(sa.select(t_cursor).where(t_cursor.c.member_id == self.member_id)).first()
        if r is None:
            return {"window_end": None, "last_ok_at": None, "last_error": None, "stats": None}
        return {"window_end": _aware(r.window_end), "last_ok_at": _aware(r.last_ok_at), "last_error": r.last_error,
                "stats": r.stats}

    def try_lease(self, owner: str, seconds: float) -> bool:
        """One sync per portal across processes (scheduler, worker running a robot or a push)."""
        now = time.time()
        with self.engine.begin() as c:
            c.execute(_insert(self.engine, t_cursor).values(member_id=self.member_id)
                      .on_conflict_do_nothing(index_elements=[t_cursor.c.member_id]))
            return c.execute(sa.update(t_cursor).where(
                t_cursor.c.member_id == self.member_id,
                sa.or_(t_cursor.c.lease_until.is_(None), t_cursor.c.lease_until < now, t_cursor.c.lease_owner == owner))
                .values(lease_owner=owner, lease_until=now + seconds)).rowcount == 1

    def release_lease(self, owner: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.update(t_cursor).where(t_cursor.c.member_id == self.member_id,
                                                t_cursor.c.lease_owner == owner)
                      .values(lease_owner=None, lease_until=None))

    def save_cursor(self, **values) -> None:
        if values.get("last_error"):            # shown on the settings page: no credential in it
            values["last_error"] = scrub(values["last_error"])
        ins = _insert(self.engine, t_cursor).values(member_id=self.member_id, **values)
        with self.engine.begin() as c:
            c.execute(ins.on_conflict_do_update(index_elements=[t_cursor.c.member_id],
                                                set_={k: ins.excluded[k] for k in values}))


def lag(store, now) -> list:
    """GET /metrics: how long ago the portals' last good syncs were (largest, median), and how many portals
    have one — aggregates only."""
    with store.engine.connect() as c:
        last = [r for r in c.execute(sa.select(t_cursor.c.last_ok_at).where(t_cursor.c.last_ok_at.is_not(None)))
                .scalars()]
    ages = sorted(max(0.0, (now - (t if t.tzinfo else t.replace(tzinfo=timezone.utc))).total_seconds())
                  for t in last)
    if not ages:
        return [({"stat": "portals"}, 0)]
    return [({"stat": "max"}, round(ages[-1], 3)), ({"stat": "median"}, round(ages[len(ages) // 2], 3)),
            ({"stat": "portals"}, len(ages))]
