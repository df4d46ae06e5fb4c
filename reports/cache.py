"""The dashboards' cache: what the dashboards count, kept in our database so a dashboard is a few SQL
queries, not a read of every visit from the portal.

- ``reports_visits``: one row per Visit item — its local day (the portal's zone of the visits settings),
  stage kind (planned / done / overdue / failed), responsible, region, type and "done on time".
- ``reports_sales``: 1C receipts (less refunds) per allocation line, from the sync_1c ledger (our own
  copy of 1C's payments) and the order → deal binding it keeps, with the deal's responsible
  (``reports_deals``: read once per deal with ``crm.deal.list``).
- ``reports_cache``: per portal — when it was filled, the portal's time (``server.time``) of the last read,
  the "stale since" mark an event sets, the zone the days were cut in, user names, what the reads cost and
  a writer lease (one refresh per portal at a time across processes).

Filled with the **app's own token** (``services.app_client``): it is a cache every dashboard reader shares,
so it may not depend on who opened the page first. The first dashboard of a portal fills it (a full
keyset read: ⌈N/2500⌉+1 calls, and one ``server.time``); after that a Visit event
(ONCRMDYNAMICITEMADD/UPDATE) only marks it stale (no portal call) and queues one ``reports/refresh`` inbox
job; a delete event removes the row. A refresh reads only what changed since the mark (``>=updatedTime``
from the previous read's ``server.time`` less a minute, one list call when nothing did) and writes only
the rows that differ. The scheduler (``reports.cache``, every 300 s) refreshes what is stale and re-reads
everything every ``FULL_EVERY`` as the safety net for a lost event.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from b24app.store.row_lease import RowLease
from b24app.store.sql import _insert
from install.registry import NotInstalled, installed_ids
from sync_1c.ledger_store import LedgerStore, t_deals as t_bound, t_orders
from sync_1c.payments import REFUND
from visits import rules
from visits.read import user_names

log = logging.getLogger("b24app.reports.cache")

FULL_EVERY = 6 * 3600.0
OVERLAP = timedelta(seconds=60)
LEASE_SECONDS = 120.0
CLOCK = time.time
REFRESH_KIND, REFRESH_NAME = "reports", "refresh"
KINDS = {"done": "done", "overdue": "overdue", "failed": "failed"}

metadata = sa.MetaData()
t_visits = sa.Table(
    "reports_visits", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("visit_id", sa.BigInteger, primary_key=True),
    sa.Column("day", sa.String(10), nullable=False), sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("manager", sa.BigInteger, nullable=False), sa.Column("region", sa.String(255), nullable=False),
    sa.Column("vtype", sa.String(64), nullable=False), sa.Column("on_time", sa.Boolean, nullable=False),
    sa.Column("updated", sa.String(40), nullable=False),
)
t_sales = sa.Table(
    "reports_sales", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("ref_key", sa.String(64), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True), sa.Column("deal_id", sa.BigInteger, nullable=False),
    sa.Column("manager", sa.BigInteger, nullable=False), sa.Column("day", sa.String(10), nullable=False),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
)
t_deals = sa.Table(
    "reports_deals", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("manager", sa.BigInteger, nullable=False),
)
t_state = sa.Table(
    "reports_cache", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("filled_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("refreshed_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("stale_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("mark", sa.String(40), nullable=False, server_default=""),
    sa.Column("zone", sa.String(64), nullable=False, server_default=""),
    sa.Column("names", sa.JSON), sa.Column("stats", sa.JSON),
    sa.Column("lease_owner", sa.String(64)), sa.Column("lease_until", sa.Float),
)


class Busy(Exception):
    """Another process is refreshing this portal's cache right now."""


def state(engine, member_id: str):
    with engine.connect() as c:
        return c.execute(sa.select(t_state).where(t_state.c.member_id == member_id)).first()


def _Lease(engine, member_id: str, wait: float) -> RowLease:
    """One writer per portal across processes: the lease in this cache's state row."""
    return RowLease(engine, t_state, member_id, wait=wait, seconds=LEASE_SECONDS, busy=Busy)


# --- visits -----------------------------------------------------------------------------------------------
def _kind(v, stage_id) -> str:
    key = v.stage_key(stage_id)
    if key in KINDS:
        return KINDS[key]
    return "planned" if key in rules.OPEN_STAGES else "other"


def visit_row(item: dict, v, zone, types: dict) -> dict | None:
    """A crm.item as the cache keeps it; None for a visit without a date (it belongs to no period)."""
    visit_at = rules.parse_dt(item.get(v.field("visit_date")), zone)
    if visit_at is None:
        return None
    kind = _kind(v, item.get("stageId"))
    moved = rules.parse_dt(item.get("movedTime"), zone)
    return {"visit_id": int(item["id"]), "day": visit_at.astimezone(zone).date().isoformat(), "kind": kind,
            "manager": int(item.get("assignedById") or 0),
            "region": str(item.get(v.field("region")) or "").strip()[:255],
            "vtype": types.get(str(item.get(v.field("visit_type")) or ""), ""),
            "on_time": kind == "done" and moved is not None and moved < rules.day_over(visit_at, zone),
            "updated": str(item.get("updatedTime") or "")[:40]}


def _select(v) -> list[str]:
    return ["id", "stageId", "assignedById", "movedTime", "updatedTime", v.field("visit_date"), v.field("region"),
            v.field("visit_type")]


def _read_visits(client, v, since: str | None) -> list[dict]:
    filt = {"categoryId": v.category_id}
    if since:
        filt[">=updatedTime"] = since
    return list(client.list_all("crm.item.list", {"entityTypeId": v.entity_type_id, "filter": filt,
                                                  "select": _select(v)}))


def _since(mark: str) -> str | None:
    try:
        return (datetime.fromisoformat(mark) - OVERLAP).isoformat()
    except ValueError:
        return None


def _changed(c, member_id: str, rows: list[dict]) -> list[dict]:
    """The rows that differ from what the cache holds (the overlap re-reads the last minute's visits)."""
    t = t_visits.c
    held: dict[int, dict] = {}
    ids = [r["visit_id"] for r in rows]
    for k in range(0, len(ids), 500):
        for h in c.execute(sa.select(t_visits).where(t.member_id == member_id, t.visit_id.in_(ids[k:k + 500]))):
            held[int(h.visit_id)] = {key: getattr(h, key) for key in rows[0]}
    return [r for r in rows if held.get(r["visit_id"]) != {**r, "on_time": bool(r["on_time"])}]


def _write_visits(engine, member_id: str, rows: list[dict], gone: set[int], full: bool) -> None:
    t = t_visits.c
    with engine.begin() as c:
        if full:
            c.execute(sa.delete(t_visits).where(t.member_id == member_id))
            if rows:
                c.execute(sa.insert(t_visits), [{"member_id": member_id, **r} for r in rows])
            return
        if gone:
            c.execute(sa.delete(t_visits).where(t.member_id == member_id, t.visit_id.in_(sorted(gone))))
        rows = _changed(c, member_id, rows)
        if rows:                    # one executemany upsert: a refresh may bring thousands of rows
            stmt = _insert(engine, t_visits)
            stmt = stmt.on_conflict_do_update(index_elements=[t.member_id, t.visit_id],
                                              set_={k: stmt.excluded[k] for k in rows[0] if k != "visit_id"})
            c.execute(stmt, [{"member_id": member_id, **r} for r in rows])


# --- 1C sales ---------------------------------------------------------------------------------------------
def _sales_lines(engine, member_id: str, zone) -> list[dict]:
    """Counted 1C receipts (+) and refunds (−) per allocation line bound to a deal."""
    with engine.connect() as c:
        bound = {str(r.order_key).lower(): int(r.deal_id) for r in c.execute(
            sa.select(t_bound.c.order_key, t_bound.c.deal_id).where(t_bound.c.member_id == member_id,
                                                                    t_bound.c.order_key.is_not(None)))}
        for r in c.execute(sa.select(t_orders.c.order_key, t_orders.c.bound_deal).where(
                t_orders.c.member_id == member_id, t_orders.c.bound_deal.is_not(None))):
            bound.setdefault(str(r.order_key).lower(), int(r.bound_deal))
    out = []
    for p in LedgerStore(engine, member_id).payments().values():
        if not p.counts:
            continue
        day = p.date.astimezone(zone).date().isoformat()
        for n, a in enumerate(p.allocations):
            deal = bound.get(str(a.order_key or "").lower())
            if deal is None:
                continue
            amount = Decimal(a.amount) * (-1 if p.kind == REFUND else 1)
            out.append({"ref_key": p.ref_key[:64], "line": n, "deal_id": deal, "day": day, "amount": amount})
    return out


def _deal_managers(engine, client, member_id: str, deal_ids: set[int], full: bool) -> dict[int, int]:
    t = t_deals.c
    with engine.connect() as c:
        known = {} if full else {int(r.deal_id): int(r.manager) for r in c.execute(
            sa.select(t.deal_id, t.manager).where(t.member_id == member_id))}
    missing = sorted(d for d in deal_ids if d not in known)
    fresh: dict[int, int] = {}
    chunks = [missing[i:i + 50] for i in range(0, len(missing), 50)]
    if chunks:
        res = client.batch_many([("crm.deal.list", {"filter": {"@ID": ch}, "select": ["ID", "ASSIGNED_BY_ID"]})
                                 for ch in chunks])
        for r in res:
            for d in (r.result if r.ok and isinstance(r.result, list) else []):
                fresh[int(d["ID"])] = int(d.get("ASSIGNED_BY_ID") or 0)
    if fresh or full:
        with engine.begin() as c:
            if full:
                c.execute(sa.delete(t_deals).where(t.member_id == member_id))
            for d, m in fresh.items():
                stmt = _insert(engine, t_deals).values(member_id=member_id, deal_id=d, manager=m)
                c.execute(stmt.on_conflict_do_update(index_elements=[t.member_id, t.deal_id], set_={"manager": m}))
    return {**known, **fresh}


def _write_sales(engine, member_id: str, lines: list[dict], managers: dict[int, int]) -> None:
    with engine.begin() as c:
        c.execute(sa.delete(t_sales).where(t_sales.c.member_id == member_id))
        if lines:
            c.execute(sa.insert(t_sales), [{"member_id": member_id, "manager": managers.get(x["deal_id"], 0), **x}
                                           for x in lines])


# --- names ------------------------------------------------------------------------------------------------
def _user_ids(engine, member_id: str) -> set[int]:
    with engine.connect() as c:
        a = {int(x) for x in c.execute(sa.select(t_visits.c.manager).distinct()
                                       .where(t_visits.c.member_id == member_id)).scalars()}
        b = {int(x) for x in c.execute(sa.select(t_sales.c.manager).distinct()
                                       .where(t_sales.c.member_id == member_id)).scalars()}
    return {i for i in a | b if i}


def _lookup_names(client, ids) -> dict[str, str]:
    return user_names(client, ids) if ids else {}


def names(services, member_id: str, ids) -> dict[str, str]:
    """Names of these users from the cache; the ones it does not know yet are read (app token) and kept."""
    st = state(services.store.engine, member_id)
    have = dict((st.names if st is not None else None) or {})
    missing = {int(i) for i in ids if i and str(i) not in have}
    if missing:
        have.update(_lookup_names(services.app_client(member_id), missing))
        with services.store.engine.begin() as c:
            c.execute(sa.update(t_state).where(t_state.c.member_id == member_id).values(names=have))
    return {str(i): have.get(str(i), f"#{i}") for i in ids if i}


# --- refresh ----------------------------------------------------------------------------------------------
def refresh(services, member_id: str, full: bool = False, wait: float = 30.0) -> dict:
    """Bring the cache up to date with the app's token; ``full`` re-reads everything. Returns what it cost."""
    engine = services.store.engine
    client = services.app_client(member_id)
    calls0, t0 = client.http_calls, time.perf_counter()
    with _Lease(engine, member_id, wait):
        st = state(engine, member_id)
        v = installed_ids(services.store, member_id).smart_process("visit")
        zone_name = rules.settings_of(services.store.kv, member_id).tz
        zone = rules.settings_of(services.store.kv, member_id).zone
        full = full or not st.filled_at or st.zone != zone_name or not st.mark
        started = CLOCK()
        since = None if full else _since(st.mark)
        # the portal's own clock before the read: the next "changed since" starts here (less OVERLAP for
        # writes still in flight), so the next refresh reads only what changed after this one
        portal_now = str(client.call("server.time") or "")
        items = _read_visits(client, v, since)
        types = {str(eid): key for key, eid in (v.enums.get("visit_type") or {}).items()}
        rows, gone = [], set()
        for i in items:
            r = visit_row(i, v, zone, types)
            if r is None:
                gone.add(int(i["id"]))
            else:
                rows.append(r)
        _write_visits(engine, member_id, rows, gone, full)
        mark = portal_now if _since(portal_now) else max([r["updated"] for r in rows] + [st.mark or ""])
        lines = _sales_lines(engine, member_id, zone)
        managers = _deal_managers(engine, client, member_id, {x["deal_id"] for x in lines}, full)
        _write_sales(engine, member_id, lines, managers)
        have = {} if full else dict(st.names or {})
        missing = {i for i in _user_ids(engine, member_id) if str(i) not in have}
        have.update(_lookup_names(client, missing))
        cost = {"full": full, "read": len(items), "http_calls": client.http_calls - calls0,
                "seconds": round(time.perf_counter() - t0, 3)}
        values = {"refreshed_at": started, "mark": mark, "zone": zone_name, "names": have, "stats": cost}
        if full:
            values["filled_at"] = started
        with engine.begin() as c:
            s = t_state.c
            c.execute(sa.update(t_state).where(s.member_id == member_id).values(**values))
            # an event that came while we read keeps the cache stale (its change may postdate our read)
            c.execute(sa.update(t_state).where(s.member_id == member_id, s.stale_at < started).values(stale_at=0))
    log.info("reports cache: %s read %s visits in %s portal calls, %.2f s", "full" if full else "changes",
             cost["read"], cost["http_calls"], cost["seconds"])
    return cost


def ensure(services, member_id: str) -> dict:
    """Before a dashboard answers: fill an empty cache, catch up a stale one (what changed since the mark),
    else nothing — no portal call. Returns {source: cache|refreshed|filled, http_calls, ...}."""
    st = state(services.store.engine, member_id)
    if st is None or not st.filled_at:
        return {"source": "filled", **refresh(services, member_id, full=True)}
    if st.stale_at and st.stale_at >= st.refreshed_at:
        try:
            return {"source": "refreshed", **refresh(services, member_id, wait=5.0)}
        except Busy:
            pass                         # another process is at it: answer from what we have
    return {"source": "cache", "http_calls": 0, "read": 0}


def cached_at(engine, member_id: str) -> str | None:
    st = state(engine, member_id)
    if st is None or not st.refreshed_at:
        return None
    return datetime.fromtimestamp(st.refreshed_at, timezone.utc).isoformat()


# --- events and the scheduler -----------------------------------------------------------------------------
def _visit_event(services, member_id: str, payload: dict) -> int | None:
    fields = ((payload.get("data") or {}).get("FIELDS") or {})
    try:
        v = installed_ids(services.store, member_id).smart_process("visit")
    except NotInstalled:
        return None
    if str(fields.get("ENTITY_TYPE_ID") or "") != str(v.entity_type_id) or not str(fields.get("ID") or "").isdigit():
        return None
    return int(fields["ID"])


def mark_stale(engine, member_id: str) -> None:
    s = t_state.c
    with engine.begin() as c:
        c.execute(sa.update(t_state).where(s.member_id == member_id, s.filled_at > 0).values(stale_at=CLOCK()))


def on_visit_change(services, member_id: str, payload: dict) -> None:
    """A Visit was added or changed: mark the cache stale (no portal call) and queue one refresh."""
    if _visit_event(services, member_id, payload) is None:
        return
    mark_stale(services.store.engine, member_id)
    services.store.inbox.put(member_id, REFRESH_KIND, REFRESH_NAME, {}, f"{REFRESH_KIND}.{REFRESH_NAME}",
                             while_pending=True)


def on_visit_delete(services, member_id: str, payload: dict) -> None:
    visit_id = _visit_event(services, member_id, payload)
    if visit_id is None:
        return
    with services.store.engine.begin() as c:
        c.execute(sa.delete(t_visits).where(t_visits.c.member_id == member_id, t_visits.c.visit_id == visit_id))


def run_refresh(services, member_id: str, payload: dict | None = None) -> None:
    """The inbox job a burst of Visit events queued once."""
    st = state(services.store.engine, member_id)
    if st is None or not st.filled_at:
        return                           # nobody looked at a dashboard yet: the first one fills it
    refresh(services, member_id)


def scheduled(services, member_id: str) -> None:
    """Every 300 s per portal: stale → catch up; the full re-read every FULL_EVERY (a lost event's net)."""
    st = state(services.store.engine, member_id)
    if st is None or not st.filled_at:
        return
    if CLOCK() - st.filled_at >= FULL_EVERY:
        refresh(services, member_id, full=True)
    elif st.stale_at:
        refresh(services, member_id)
