"""The orders map's job cache, kept current by the events themselves (issue 19): its cost follows the
changes, not the size of the portal.

- A deal event only marks the deal dirty (a row in ``maps_dirty``, no portal call) and queues one
  ``maps/refresh`` inbox job (deduplicated while pending, so a burst queues one). The refresh reads every
  dirty deal with ``crm.deal.get`` in batches of 50 — ⌈N/50⌉ portal calls for N changed deals — and writes
  the ones that differ.
- The safety net (``SAFETY_EVERY`` seconds, from the scheduler or from a poll that finds it overdue) asks
  for what changed since the last mark — the portal's own ``server.time`` at the previous read, less
  ``OVERLAP`` for writes still in flight — (``>=DATE_MODIFY``, keyset paging: one call when nothing did)
  and, in the same batch, the portal's time now and how many open deals there are. A changed deal whose
  event was lost is corrected in place; a count that still differs (a deletion we never heard of) is
  drift → one full re-read.
- A full re-read (``list_all``) happens only when the cache is empty (after install), when the installed
  ids or the manifest's colours changed (the fingerprint), or on drift.
- Polls answer from the cache: ``current`` costs one small query when nothing moved, and loads only the
  rows written since this process last looked (``seq``).

The cache lives in our database (``maps_jobs``/``maps_jobcache``/``maps_dirty``), not in a process: the
worker keeps it current and every web process answers from it, so N web processes do not each re-read the
portal. One writer at a time per portal (a lease row), so a full re-read and a refresh never interleave.
Names (client, worker) are reused from the cached jobs; only ids the cache does not know are looked up,
and a company event marks its deals for a fresh name.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import asdict, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from b24app.errors import B24Error
from b24app.store.row_lease import RowLease
from install.manifest import manifest_path
from install.registry import InstalledIds, installed_ids
from maps import mapstate, orders

log = logging.getLogger("b24app.maps.jobcache")

SAFETY_EVERY = 300.0          # seconds between "changed since" reads
OVERLAP = timedelta(seconds=60)   # re-read the last minute: DATE_MODIFY is per second and commits interleave
LEASE_SECONDS = 120.0
BATCH = 50                    # commands in one batch call (reference §7.2)
CLOCK = time.time             # benches on a compressed clock replace it
REFRESH_KIND, REFRESH_NAME = "maps", "refresh"

metadata = sa.MetaData()
t_jobs = sa.Table(
    "maps_jobs", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False), sa.Column("data", sa.JSON),        # NULL = gone
)
t_state = sa.Table(
    "maps_jobcache", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("gen", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
    sa.Column("mark", sa.String(40), nullable=False, server_default=""),
    sa.Column("checked_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(64)), sa.Column("lease_until", sa.Float),
)
t_dirty = sa.Table(
    "maps_dirty", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("deal_id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
)

_memo: dict[str, tuple[int, int, dict[int, orders.OrderJob]]] = {}      # member → (gen, seq, jobs)
_memo_lock = threading.Lock()


class Busy(Exception):
    """Another process holds this portal's cache lease."""


def _insert(engine):
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert


# --- (de)serialising --------------------------------------------------------------------------------
def _to_data(job: orders.OrderJob, modified: str = "") -> dict:
    d = asdict(job)
    d["start"] = job.start.isoformat() if job.start else None
    d["point"] = list(job.point) if job.point else None
    d["modified"] = modified
    return d


def _from_data(d: dict) -> orders.OrderJob:
    d = {k: v for k, v in d.items() if k != "modified"}
    d["start"] = datetime.fromisoformat(d["start"]) if d.get("start") else None
    d["point"] = tuple(d["point"]) if d.get("point") else None
    return orders.OrderJob(**d)


_colors_memo: tuple | None = None


def _colors() -> dict:
    """The manifest's stage colours, read again only when the manifest file changes (polls ask every 5 s)."""
    global _colors_memo
    path = manifest_path()
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except OSError:
        stamp = (str(path), None)
    if _colors_memo is None or _colors_memo[0] != stamp:
        _colors_memo = (stamp, orders.stage_colors())
    return _colors_memo[1]


def fingerprint(ids: InstalledIds) -> str:
    """What a full re-read depends on: the installed ids (fields, categories, stages) and the colours."""
    colors = sorted((f"{p}/{s}", c) for (p, s), c in _colors().items())
    text = json.dumps([ids.data, colors], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _select(ids: InstalledIds) -> list[str]:
    return [*orders.deal_select(ids), "STAGE_SEMANTIC_ID", "DATE_MODIFY"]


def _cats(ids: InstalledIds) -> list[int]:
    return [ids.pipeline(k).category_id for k in orders.PIPELINES if k in ids.data.get("pipelines", {})]


# --- state and lease ----------------------------------------------------------------------------------
def state(engine, member_id: str):
    with engine.connect() as c:
        return c.execute(sa.select(t_state).where(t_state.c.member_id == member_id)).first()


def _Lease(engine, member_id: str, wait: float) -> RowLease:
    """One writer per portal across processes: the lease in this cache's state row."""
    return RowLease(engine, t_state, member_id, wait=wait, seconds=LEASE_SECONDS, busy=Busy)


def _write(engine, member_id: str, changes: dict[int, dict | None], *, full: bool = False, **fields) -> int:
    """Write changed rows under a new seq (a full read replaces everything under a new gen); bumps the
    map's version when anything changed so open maps fetch. Returns how many rows changed."""
    s, j = t_state.c, t_jobs.c
    with engine.begin() as c:
        st = c.execute(sa.select(t_state).where(s.member_id == member_id)).first()
        seq = int(st.seq) + 1
        values = dict(fields)
        if full:
            c.execute(sa.delete(t_jobs).where(j.member_id == member_id))
            # unique across re-installs too (forget() drops the state row; a process's copy must not match)
            values["gen"] = max(int(st.gen) + 1, int(time.time() * 1000))
        if changes:
            values["seq"] = seq
            if full:
                c.execute(sa.insert(t_jobs), [{"member_id": member_id, "deal_id": k, "seq": seq, "data": v}
                                              for k, v in changes.items() if v is not None])
            else:
                for k, v in changes.items():
                    stmt = _insert(engine)(t_jobs).values(member_id=member_id, deal_id=k, seq=seq, data=v)
                    c.execute(stmt.on_conflict_do_update(index_elements=[j.member_id, j.deal_id],
                                                         set_={"seq": seq, "data": v}))
        if values:
            c.execute(sa.update(t_state).where(s.member_id == member_id).values(**values))
        if changes or full:
            c.execute(mapstate._bump_stmt(engine, member_id))
    return len(changes)


# --- reading the cache --------------------------------------------------------------------------------
def load(engine, member_id: str) -> dict[int, orders.OrderJob]:
    """The cached jobs by deal id; a process keeps its copy and reads only rows newer than it."""
    st = state(engine, member_id)
    if st is None or not st.gen:
        return {}
    with _memo_lock:
        memo = _memo.get(member_id)
    if memo and memo[0] == st.gen and memo[1] == st.seq:
        return memo[2]
    j = t_jobs.c
    fresh = not memo or memo[0] != st.gen
    jobs = {} if fresh else dict(memo[2])
    q = sa.select(j.deal_id, j.seq, j.data).where(j.member_id == member_id)
    if not fresh:
        q = q.where(j.seq > memo[1])
    top = 0 if fresh else memo[1]
    with engine.connect() as c:
        gen = c.execute(sa.select(t_state.c.gen).where(t_state.c.member_id == member_id)).scalar()
        for deal_id, seq, data in c.execute(q):
            top = max(top, int(seq))
            if data is None:
                jobs.pop(int(deal_id), None)
            else:
                jobs[int(deal_id)] = _from_data(data)
    if gen != st.gen:             # a full re-read landed meanwhile: read it all next time
        return jobs
    with _memo_lock:
        _memo[member_id] = (int(st.gen), max(top, int(st.seq)), jobs)
    return jobs


def current(services, member_id: str) -> list[orders.OrderJob]:
    """What polls answer: the cached jobs (``maintain`` first)."""
    maintain(services, member_id)
    return sorted(load(services.store.engine, member_id).values(), key=lambda j: j.id)


def maintain(services, member_id: str) -> None:
    """Before a poll answers: a full read when the cache is missing or stale by fingerprint, the safety net
    when it is overdue (a poll that finds another process at it does not wait)."""
    engine = services.store.engine
    ids = installed_ids(services.store, member_id)
    fp = fingerprint(ids)
    st = state(engine, member_id)
    if st is None or not st.gen or st.fingerprint != fp:
        with _Lease(engine, member_id, wait=LEASE_SECONDS):
            st = state(engine, member_id)
            if not st.gen or st.fingerprint != fp:
                full_read(services, member_id, ids)
    elif CLOCK() - float(st.checked_at or 0) > SAFETY_EVERY:
        try:
            safety_net(services, member_id, wait=0)
        except Busy:
            pass
        except Exception as exc:  # noqa: BLE001 - the poll still answers from the cache; retried in SAFETY_EVERY
            log.warning("portal %s: map safety net failed: %s: %s", member_id, type(exc).__name__, exc)
            with engine.begin() as c:
                c.execute(sa.update(t_state).where(t_state.c.member_id == member_id).values(checked_at=CLOCK()))


# --- writing it -----------------------------------------------------------------------------------------
def _modified(row: dict) -> str:
    return str(row.get("DATE_MODIFY") or "")


def _max_mark(mark: str, rows) -> str:
    best, best_dt = mark, orders.parse_dt(mark) if mark else None
    for r in rows:
        dt = orders.parse_dt(_modified(r))
        if dt is not None and (best_dt is None or dt > best_dt):
            best, best_dt = _modified(r), dt
    return best


def full_read(services, member_id: str, ids: InstalledIds | None = None) -> int:
    """Every open deal of our pipelines (``list_all``: ⌈N/2500⌉+1 calls) replaces the cache. Call under
    the lease."""
    ids = ids or installed_ids(services.store, member_id)
    started = CLOCK()
    cats = _cats(ids)
    rows = []
    client = services.app_client(member_id)
    mark = str(client.call("server.time") or "")        # the portal's clock: the next "changed since"
    if cats:
        rows = list(client.list_all(
            "crm.deal.list", {"select": _select(ids), "filter": {"@CATEGORY_ID": cats, "STAGE_SEMANTIC_ID": "P"}}))
    colors = _colors()
    pairs = [(orders.job_from_deal(r, ids, colors), _modified(r)) for r in rows]
    pairs = [(j, m) for j, m in pairs if j is not None]
    named = orders.fill_names(services.app_client(member_id), [j for j, _ in pairs]) if pairs else []
    changes = {j.id: _to_data(j, m) for j, (_, m) in zip(named, pairs)}
    _write(services.store.engine, member_id, changes, full=True, fingerprint=fingerprint(ids),
           mark=mark or _max_mark("", rows), checked_at=started)
    return len(changes)


def _named(client, engine, member_id: str, jobs: list[orders.OrderJob], stale_companies=()) -> list:
    """Names from the cached jobs; only ids the cache does not know (or a renamed company's) are asked."""
    known = load(engine, member_id)
    clients_by_company, clients_by_contact, workers = {}, {}, {}
    for k in known.values():
        if k.company_id and k.company_id not in stale_companies:
            clients_by_company[k.company_id] = k.client
        elif k.contact_id and not k.company_id:
            clients_by_contact[k.contact_id] = k.client
        if k.worker_id:
            workers[k.worker_id] = k.worker
    unknown = [j for j in jobs if (j.company_id and j.company_id not in clients_by_company)
               or (not j.company_id and j.contact_id and j.contact_id not in clients_by_contact)
               or (j.worker_id and j.worker_id not in workers)]
    looked = {j.id: j for j in orders.fill_names(client, unknown)} if unknown else {}
    out = []
    for j in jobs:
        if j.id in looked:
            out.append(looked[j.id])
            continue
        name = clients_by_company.get(j.company_id) if j.company_id else clients_by_contact.get(j.contact_id)
        out.append(replace(j, client=name or "", worker=workers.get(j.worker_id, "") if j.worker_id else ""))
    return out


def _apply(services, member_id: str, ids: InstalledIds, rows: dict[int, dict | None], *,
           stale_companies=(), **fields) -> int:
    """Deal rows as read (None = gone) into the cache: only the ones that differ are written."""
    engine = services.store.engine
    colors = _colors()
    jobs, gone = [], []
    for deal_id, row in rows.items():
        job = None
        if row is not None and str(row.get("STAGE_SEMANTIC_ID") or "P") == "P":
            job = orders.job_from_deal(row, ids, colors)
        (jobs.append((job, _modified(row))) if job else gone.append(deal_id))
    named = _named(services.app_client(member_id), engine, member_id, [j for j, _ in jobs], stale_companies)
    cached = load(engine, member_id)
    changes: dict[int, dict | None] = {}
    for job, (_, modified) in zip(named, jobs):
        if cached.get(job.id) != job:
            changes[job.id] = _to_data(job, modified)
    for deal_id in gone:
        if deal_id in cached:
            changes[deal_id] = None
    _write(engine, member_id, changes, **fields)
    return len(changes)


def mark_dirty(engine, member_id: str, deal_ids) -> None:
    now = time.time()
    d = t_dirty.c
    with engine.begin() as c:
        for deal_id in {int(x) for x in deal_ids}:
            stmt = _insert(engine)(t_dirty).values(member_id=member_id, deal_id=deal_id, at=now)
            c.execute(stmt.on_conflict_do_update(index_elements=[d.member_id, d.deal_id], set_={"at": now}))


def queue_refresh(services, member_id: str) -> None:
    """One pending refresh job per portal: a burst of events queues it once."""
    services.store.inbox.put(member_id, REFRESH_KIND, REFRESH_NAME, {}, f"{REFRESH_KIND}.{REFRESH_NAME}",
                             while_pending=True)


def _read(services, member_id: str, deal_ids, extra: dict | None = None):
    """``crm.deal.get`` for each id, 50 per batch call: ({id: row or None when deleted}, first other error,
    the last batch's result when ``extra`` commands rode in it)."""
    order = sorted({int(x) for x in deal_ids})
    client = services.app_client(member_id)
    rows: dict[int, dict | None] = {}
    failed: B24Error | None = None
    last = None
    chunks = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
    for k, chunk in enumerate(chunks):
        cmds = {f"d{i}": ("crm.deal.get", {"id": i}) for i in chunk}
        if extra and k == len(chunks) - 1:
            cmds.update(extra)
        br = client.batch(cmds)
        for deal_id in chunk:
            key = f"d{deal_id}"
            if key in br.errors:
                if _not_found(br.errors[key]):
                    rows[deal_id] = None
                else:
                    failed = failed or br.errors[key]
            elif key in br.result:
                rows[deal_id] = br.result[key]
            else:
                failed = failed or B24Error("BATCH_HALTED", f"crm.deal.get {deal_id}: not executed")
        last = br
    return rows, failed, (last if extra else None)


def _apply_if_built(services, member_id: str, rows: dict, stale_companies=()) -> int:
    engine = services.store.engine
    ids = installed_ids(services.store, member_id)
    with _Lease(engine, member_id, wait=LEASE_SECONDS):
        st = state(engine, member_id)
        if st is not None and st.gen and st.fingerprint == fingerprint(ids):
            return _apply(services, member_id, ids, rows, stale_companies=stale_companies)
    return 0


def refresh(services, member_id: str, *, stale_companies=()) -> dict[int, dict | None]:
    """Read every dirty deal (``crm.deal.get`` × 50 per batch call) and update the cache with them;
    returns the rows read (None = deleted) for whoever needs them too (geocoding). A deal that could not
    be read stays dirty and the error is raised after the rest was applied.

    When the safety net is half due and the last batch has room, its three commands ride along in it: on
    a portal that changes at all, the safety net costs no call of its own."""
    engine = services.store.engine
    d = t_dirty.c
    with engine.connect() as c:
        marked = {int(k): at for k, at in c.execute(sa.select(d.deal_id, d.at).where(d.member_id == member_id))}
    if not marked:
        return {}
    ids = installed_ids(services.store, member_id)
    st = state(engine, member_id)
    built = st is not None and bool(st.gen) and st.fingerprint == fingerprint(ids)
    extra = None
    if built and CLOCK() - float(st.checked_at or 0) > SAFETY_EVERY / 2 and 0 < len(marked) % BATCH <= BATCH - 3:
        extra = _safety_cmds(ids, st)
    started = CLOCK()
    rows, failed, br = _read(services, member_id, marked, extra[0] if extra else None)
    with _Lease(engine, member_id, wait=LEASE_SECONDS):
        st = state(engine, member_id)
        if st is not None and st.gen and st.fingerprint == fingerprint(ids):
            _apply(services, member_id, ids, rows, stale_companies=stale_companies)
            if extra is not None and br is not None:
                try:
                    _safety_finish(services, member_id, ids, st, br, extra[1], extra[2], started)
                except B24Error as exc:      # the standalone safety net runs when it is fully due
                    log.warning("portal %s: safety net in the refresh failed: %s", member_id, exc)
    with engine.begin() as c:
        for deal_id in rows:
            c.execute(sa.delete(t_dirty).where(d.member_id == member_id, d.deal_id == deal_id,
                                               d.at == marked[deal_id]))
    if failed is not None:
        raise failed
    return rows


def update_deals(services, member_id: str, deal_ids) -> int:
    """We changed these deals ourselves (an assignment, a pin): read them now, so the dispatcher's next
    poll shows it; their dirty marks stay for the refresh job (geocoding reads them there)."""
    rows, failed, _ = _read(services, member_id, deal_ids)
    n = _apply_if_built(services, member_id, rows)
    if failed is not None:
        raise failed
    return n


def _not_found(err) -> bool:
    """A deleted deal: "Not found" (batch sub-errors carry no HTTP status)."""
    return isinstance(err, B24Error) and (err.status is None or err.status < 500) \
        and err.code != "TRANSPORT_ERROR" and "not found" in str(err.description or "").lower()


def cached_deals_of_company(engine, member_id: str, company_id: int) -> list[int]:
    return [j.id for j in load(engine, member_id).values() if j.company_id == int(company_id)]


def _safety_cmds(ids: InstalledIds, st) -> tuple[dict, dict, dict] | None:
    """The safety net's batch commands: the portal's time, what changed since the mark (keyset) and the
    open count; None when there are no pipelines to read."""
    cats = _cats(ids)
    if not cats:
        return None
    since = orders.parse_dt(st.mark)
    filt = {"@CATEGORY_ID": cats}
    if since is not None:
        filt[">=DATE_MODIFY"] = (since - OVERLAP).isoformat()
    listing = {"select": _select(ids), "filter": filt, "order": {"ID": "ASC"}, "start": -1}
    cmds = {"now": ("server.time", {}), "changed": ("crm.deal.list", listing),
            "count": ("crm.deal.list", {"select": ["ID"], "start": 0, "filter": {
                "@CATEGORY_ID": cats, "STAGE_SEMANTIC_ID": "P"}})}
    return cmds, listing, filt


def _safety_finish(services, member_id: str, ids: InstalledIds, st, br, listing: dict, filt: dict,
                   started: float) -> dict:
    """Apply what the safety net's commands answered (under the lease); a count that still differs from the
    cache after the changes is drift → full re-read."""
    for key in ("now", "changed", "count"):
        if key in br.errors:
            raise br.errors[key]
    page = list(br.result.get("changed") or [])
    rows = list(page)
    if len(page) == 50:
        rows += list(services.app_client(member_id).list_all("crm.deal.list", {**listing, "filter": {
            **filt, ">ID": page[-1]["ID"]}}))
    total = int((br.total or {}).get("count") or 0)
    changed = _apply(services, member_id, ids, {int(r["ID"]): r for r in rows},
                     mark=str(br.result.get("now") or "") or _max_mark(st.mark, rows), checked_at=started)
    if total != len(load(services.store.engine, member_id)):
        return {"full": full_read(services, member_id, ids), "changed": changed, "drift": True}
    return {"full": 0, "changed": changed, "drift": bool(changed)}


def safety_net(services, member_id: str, *, wait: float = LEASE_SECONDS) -> dict:
    """What changed since the mark (keyset, one call when nothing did) and the open-deal count in one batch
    call; lost changes are corrected in place, a count that still differs triggers a full re-read."""
    engine = services.store.engine
    ids = installed_ids(services.store, member_id)
    with _Lease(engine, member_id, wait=wait):
        st = state(engine, member_id)
        if not st.gen or st.fingerprint != fingerprint(ids):
            return {"full": full_read(services, member_id, ids), "changed": 0, "drift": True}
        started = CLOCK()
        found = _safety_cmds(ids, st)
        if found is None:
            return {"full": 0, "changed": 0, "drift": False}
        cmds, listing, filt = found
        br = services.app_client(member_id).batch(cmds)
        return _safety_finish(services, member_id, ids, st, br, listing, filt, started)


def safety_net_job(services, member_id: str) -> None:
    """The scheduler's periodic "changed since" read; a portal whose map was never opened has no cache
    to check (the first poll builds it)."""
    st = state(services.store.engine, member_id)
    if st is not None and st.gen:
        try:
            safety_net(services, member_id, wait=0)
        except Busy:
            pass
