"""The one store implementation: SQLAlchemy 2 Core over SQLite (embedded mode) or PostgreSQL.

Concurrency is the point of most methods here: token refresh is leased with a conditional UPDATE,
tokens are written with compare-and-swap on ``token_version``, the inbox is claimed with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL and under SQLite's single writer (every SQLite transaction
is ``BEGIN IMMEDIATE``, see ``__init__``) — and both re-check the claim condition in the UPDATE.
"""
from __future__ import annotations

import time
from dataclasses import asdict, fields, replace
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .. import secretbox
from ..logsafe import scrub
from .interface import KV, NEEDS_REINSTALL, Inbox, InboxItem, Portal, PortalStore, Store
from .sessions import SQLDownloads, SQLPageSessions, SQLPhoneLinks, SQLUserTokens
from .tables import inbox as t_inbox
from .tables import kv as t_kv
from .tables import portals as t_portals

_PORTAL_FIELDS = [f.name for f in fields(Portal)]
_ITEM_FIELDS = [f.name for f in fields(InboxItem)]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _insert(engine: sa.Engine, table: sa.Table):
    """INSERT that understands ON CONFLICT on both dialects."""
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


# Portal credentials are sealed at rest (b24app.secretbox): written as "fernet:…", opened on read; a
# legacy plain-text value is still read (and sealed on its next write or by ``b24app rotate-keys``).
SEALED_PORTAL_FIELDS = ("access_token", "refresh_token", "application_token")


def _portal(row) -> Portal:
    m = row._mapping
    values = {k: m[k] for k in _PORTAL_FIELDS}
    for k in SEALED_PORTAL_FIELDS:
        values[k] = secretbox.unseal(values[k])
    return Portal(**values)


def _same(col, value):
    return col.is_(None) if value is None else col == value


def _item(row) -> InboxItem:
    m = row._mapping
    return InboxItem(**{k: m[k] for k in _ITEM_FIELDS})


PORTAL_CACHE_SECONDS = 2.0     # how long a process trusts its copy before asking (token_version, status)


class SQLPortalStore(PortalStore):
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._cached: dict[str, tuple[float, Portal]] = {}
        self._stamp = sa.select(t_portals.c.token_version, t_portals.c.status).where(
            t_portals.c.member_id == sa.bindparam("m"))

    def get(self, member_id: str) -> Portal | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(t_portals).where(t_portals.c.member_id == member_id)).first()
        return _portal(row) if row else None

    def get_cached(self, member_id: str, fresh: bool = False) -> Portal | None:
        """The portal from this process's copy (opened secrets included): trusted for
        ``PORTAL_CACHE_SECONDS``, then kept only while its ``token_version`` and ``status`` are still the
        stored ones (a small query, nothing to decrypt). Every write through this store drops the copy;
        a re-install elsewhere bumps ``token_version``. A copy, so callers cannot change the cached one."""
        now = time.monotonic()
        hit = None if fresh else self._cached.get(member_id)
        if hit is not None and now - hit[0] < PORTAL_CACHE_SECONDS:
            return replace(hit[1])
        if hit is not None:
            with self.engine.connect() as c:
                stamp = c.execute(self._stamp, {"m": member_id}).first()
            if stamp is not None and tuple(stamp) == (hit[1].token_version, hit[1].status):
                self._cached[member_id] = (now, hit[1])
                return replace(hit[1])
        portal = self.get(member_id)
        if portal is None:
            self._cached.pop(member_id, None)
        else:
            self._cached[member_id] = (now, portal)
        return replace(portal) if portal is not None else None

    def _drop(self, member_id: str) -> None:
        self._cached.pop(member_id, None)

    def list(self) -> list[Portal]:
        with self.engine.connect() as c:
            return [_portal(r) for r in c.execute(sa.select(t_portals).order_by(t_portals.c.member_id))]

    def upsert(self, portal: Portal) -> Portal:
        now = _now()
        values = {k: v for k, v in asdict(portal).items() if k not in ("installed_at", "updated_at")}
        for k in SEALED_PORTAL_FIELDS:
            values[k] = secretbox.seal(values[k])
        values.update(installed_at=portal.installed_at or now, updated_at=now,
                      refresh_owner=None, refresh_lease_until=None)
        ins = _insert(self.engine, t_portals).values(**values)
        changed = {k: ins.excluded[k] for k in values if k not in ("member_id", "installed_at", "token_version")}
        changed["token_version"] = t_portals.c.token_version + 1   # new tokens: outstanding CAS must fail
        stmt = ins.on_conflict_do_update(index_elements=[t_portals.c.member_id], set_=changed)
        self._drop(portal.member_id)
        with self.engine.begin() as c:
            c.execute(stmt)
        return self.get(portal.member_id)

    def set_status(self, member_id: str, status: str) -> None:
        self._drop(member_id)
        with self.engine.begin() as c:
            c.execute(sa.update(t_portals).where(t_portals.c.member_id == member_id)
                      .values(status=status, updated_at=_now()))

    def try_lease_refresh(self, member_id: str, token_version: int, owner: str, seconds: float) -> bool:
        now = time.time()
        p = t_portals.c
        stmt = (sa.update(t_portals)
                .where(p.member_id == member_id, p.token_version == token_version, p.status != NEEDS_REINSTALL,
                       sa.or_(p.refresh_lease_until.is_(None), p.refresh_lease_until < now, p.refresh_owner == owner))
                .values(refresh_owner=owner, refresh_lease_until=now + seconds))
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount == 1

    def release_refresh_lease(self, member_id: str, owner: str) -> None:
        p = t_portals.c
        with self.engine.begin() as c:
            c.execute(sa.update(t_portals).where(p.member_id == member_id, p.refresh_owner == owner)
                      .values(refresh_owner=None, refresh_lease_until=None))

    def save_tokens(self, member_id: str, expected_version: int, access: str, refresh: str,
                    expires_at: int | None) -> bool:
        p = t_portals.c
        stmt = (sa.update(t_portals).where(p.member_id == member_id, p.token_version == expected_version)
                .values(access_token=secretbox.seal(access), refresh_token=secretbox.seal(refresh),
                        expires_at=expires_at,
                        token_version=p.token_version + 1, refresh_owner=None, refresh_lease_until=None,
                        updated_at=_now()))
        self._drop(member_id)
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount == 1

    def reseal_all(self, progress=None) -> int:
        """Every portal's credentials sealed again with the first key (``b24app rotate-keys``); legacy
        plain text gets sealed. Row by row, each a conditional UPDATE on the values read, so a token
        refreshed meanwhile is left as the refresher wrote it (already under the current keys)."""
        p = t_portals.c
        with self.engine.connect() as c:
            ids = list(c.execute(sa.select(p.member_id).order_by(p.member_id)).scalars())
        done = 0
        for member_id in ids:
            with self.engine.begin() as c:
                row = c.execute(sa.select(p.member_id, *(p[k] for k in SEALED_PORTAL_FIELDS))
                                .where(p.member_id == member_id)).first()
                if row is not None:
                    m = row._mapping
                    new = {k: secretbox.reseal(m[k]) for k in SEALED_PORTAL_FIELDS}
                    c.execute(sa.update(t_portals).where(p.member_id == member_id,
                                                         *(_same(p[k], m[k]) for k in SEALED_PORTAL_FIELDS))
                              .values(**new))
            done += 1
            if progress is not None:
                progress(done, len(ids))
        return done

    def forget(self, member_id: str) -> None:
        self._drop(member_id)
        """Deletes from every table that has a ``member_id`` column — including tables added by later
        migrations of other packages — so a CLEAN uninstall leaves nothing behind (reference §1.4)."""
        with self.engine.begin() as c:
            insp = sa.inspect(c)
            for name in insp.get_table_names():
                if any(col["name"] == "member_id" for col in insp.get_columns(name)):
                    table = sa.table(name, sa.column("member_id"))
                    c.execute(sa.delete(table).where(table.c.member_id == member_id))


# Kinds a person or the portal is waiting on right now (a robot holds the portal's automation; the app's own
# install and lifecycle checks): claimed before any domain's bulk work. ONAPP* events likewise (by name).
URGENT_KINDS = ("robot", "app", "lifecycle")
PER_PORTAL_IN_FLIGHT = 10


class SQLInbox(Inbox):
    def __init__(self, engine: sa.Engine, clock=time.time):
        self.engine = engine
        self._put_stmts = None
        self.clock = clock          # leases and retry times (tests may move it)

    def put(self, member_id: str, kind: str, name: str, payload: dict, dedup_key: str, *,
            while_pending: bool = False) -> bool:
        """One transaction in the common case (a new event): INSERT … ON CONFLICT DO NOTHING RETURNING id.
        The statements are built once per store, so the hot path only binds values."""
        now = _now()
        i = t_inbox.c
        if self._put_stmts is None:
            ins = (_insert(self.engine, t_inbox)
                   .values(member_id=sa.bindparam("m"), kind=sa.bindparam("kind"), name=sa.bindparam("name"),
                           payload=sa.bindparam("payload", type_=t_inbox.c.payload.type),
                           dedup_key=sa.bindparam("key"), status="pending", attempts=0, available_at=0.0,
                           created_at=sa.bindparam("now", type_=t_inbox.c.created_at.type),
                           updated_at=sa.bindparam("now", type_=t_inbox.c.updated_at.type))
                   .on_conflict_do_nothing(index_elements=[i.member_id, i.dedup_key])
                   .returning(i.id))     # rowcount is unreliable here (-1 with an implicit RETURNING)
            held = sa.select(i.id, i.status).where(i.member_id == sa.bindparam("m"), i.dedup_key == sa.bindparam("key"))
            if self.engine.dialect.name == "postgresql":
                held = held.with_for_update()
            self._put_stmts = (ins, held)
        ins, held = self._put_stmts
        args = {"m": member_id, "kind": kind, "name": name, "payload": payload, "key": dedup_key, "now": now}
        try:
            return self._put(ins, held, args, dedup_key, while_pending)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:     # the server dropped a pooled connection (no pre-ping)
                raise
            return self._put(ins, held, args, dedup_key, while_pending)

    def _put(self, ins, held, args: dict, dedup_key: str, while_pending: bool) -> bool:
        i = t_inbox.c
        for _ in range(5):          # a concurrent put may retire the row we saw: look again
            with self.engine.begin() as c:
                if c.execute(ins, args).first() is not None:
                    return True
                if not while_pending:
                    return False
                row = c.execute(held, args).first()
                if row is None:
                    continue
                if row.status == "pending":
                    return False
                # The holder was already taken by a worker: give its key up (``key#id``, still unique)
                # so this delivery becomes a new item.
                c.execute(sa.update(t_inbox).where(i.id == row.id, i.dedup_key == dedup_key)
                          .values(dedup_key=f"{dedup_key}#{row.id}"))
                if c.execute(ins, args).first() is not None:
                    return True
        return False

    def _ready(self, now: float):
        i = t_inbox.c
        return sa.or_(sa.and_(i.status == "pending", i.available_at <= now),
                      sa.and_(i.status == "working", i.lease_until < now))   # a crashed worker's lease ran out

    def claim(self, owner: str, limit: int = 20, lease_seconds: float = 60,
              per_portal: int = PER_PORTAL_IN_FLIGHT) -> list[InboxItem]:
        """Fair, not oldest-first: robots and the app's lifecycle before bulk domain events, then one item
        of each portal in turn (a portal importing 100,000 deals waits its turn like the others), and at
        most ``per_portal`` items of one portal in flight across every worker — its handlers share that
        portal's 2 req/s anyway, so more in flight only holds other portals back."""
        now = self.clock()
        i = t_inbox.c
        urgent = sa.or_(i.kind.in_(URGENT_KINDS), i.name.like("ONAPP%"))
        prio = sa.case((urgent, 0), else_=1).label("prio")
        busy = (sa.select(i.member_id, sa.func.count().label("n"))
                .where(i.status == "working", i.lease_until >= now).group_by(i.member_id).subquery("busy"))
        ready = (sa.select(i.id, i.member_id, prio,
                           sa.func.row_number().over(partition_by=i.member_id, order_by=(prio, i.id)).label("rn"))
                 .where(self._ready(now)).subquery("ready"))
        room = per_portal - sa.func.coalesce(busy.c.n, 0)
        pick = (sa.select(ready.c.id).select_from(ready.outerjoin(busy, busy.c.member_id == ready.c.member_id))
                .where(ready.c.rn <= room).order_by(ready.c.prio, ready.c.rn, ready.c.id).limit(limit))
        with self.engine.begin() as c:
            order = {row_id: n for n, row_id in enumerate(c.execute(pick).scalars())}
            if not order:
                return []
            ids = list(order)
            if self.engine.dialect.name == "postgresql":    # a row another claimer holds is skipped
                ids = list(c.execute(sa.select(i.id).where(i.id.in_(ids)).with_for_update(skip_locked=True))
                           .scalars())
                if not ids:
                    return []
            c.execute(sa.update(t_inbox).where(i.id.in_(ids), self._ready(now))
                      .values(status="working", owner=owner, lease_until=now + lease_seconds,
                              attempts=i.attempts + 1, updated_at=_now()))
            rows = c.execute(sa.select(t_inbox).where(i.id.in_(ids), i.owner == owner,
                                                      i.lease_until == now + lease_seconds))
            return sorted((_item(r) for r in rows), key=lambda item: order[item.id])

    def _mine(self, item_id: int, owner: str):
        i = t_inbox.c
        return sa.and_(i.id == item_id, i.owner == owner, i.status == "working")

    def renew(self, item_id: int, *, owner: str, lease_seconds: float = 60) -> bool:
        with self.engine.begin() as c:
            return c.execute(sa.update(t_inbox).where(self._mine(item_id, owner))
                             .values(lease_until=self.clock() + lease_seconds, updated_at=_now())
                             .returning(t_inbox.c.id)).first() is not None

    def done(self, item_id: int, *, owner: str) -> bool:
        with self.engine.begin() as c:
            return c.execute(sa.update(t_inbox).where(self._mine(item_id, owner))
                             .values(status="done", lease_until=None, updated_at=_now())
                             .returning(t_inbox.c.id)).first() is not None

    def fail(self, item_id: int, error: str, retry_in: float | None = None, *, owner: str) -> bool:
        # last_error is shown to operators: no credential in it, whatever the handler's exception said
        values: dict[str, Any] = {"last_error": scrub(error or "")[:4000], "lease_until": None, "updated_at": _now()}
        if retry_in is None:
            values["status"] = "failed"
        else:
            values.update(status="pending", available_at=self.clock() + retry_in)
        with self.engine.begin() as c:
            return c.execute(sa.update(t_inbox).where(self._mine(item_id, owner)).values(**values)
                             .returning(t_inbox.c.id)).first() is not None

    def counts(self, member_id: str | None = None) -> dict[str, int]:
        q = sa.select(t_inbox.c.status, sa.func.count()).group_by(t_inbox.c.status)
        if member_id is not None:
            q = q.where(t_inbox.c.member_id == member_id)
        with self.engine.connect() as c:
            return {s: n for s, n in c.execute(q)}

    def get(self, item_id: int) -> InboxItem | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(t_inbox).where(t_inbox.c.id == item_id)).first()
        return _item(row) if row else None


class SQLKV(KV):
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def get(self, member_id: str, key: str, default: Any = None) -> Any:
        with self.engine.connect() as c:
            row = c.execute(sa.select(t_kv.c.value).where(t_kv.c.member_id == member_id, t_kv.c.key == key)).first()
        return default if row is None else row[0]

    def set(self, member_id: str, key: str, value: Any) -> None:
        ins = _insert(self.engine, t_kv).values(member_id=member_id, key=key, value=value, updated_at=_now())
        stmt = ins.on_conflict_do_update(index_elements=[t_kv.c.member_id, t_kv.c.key],
                                         set_={"value": ins.excluded.value, "updated_at": ins.excluded.updated_at})
        with self.engine.begin() as c:
            c.execute(stmt)

    def delete(self, member_id: str, key: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.delete(t_kv).where(t_kv.c.member_id == member_id, t_kv.c.key == key))

    def items(self, member_id: str, prefix: str | None = None) -> dict[str, Any]:
        """Every key of the portal, or those starting with ``prefix`` (read by the primary key's range)."""
        q = sa.select(t_kv.c.key, t_kv.c.value).where(t_kv.c.member_id == member_id)
        if prefix:
            q = q.where(t_kv.c.key.startswith(prefix, autoescape=True))
        with self.engine.connect() as c:
            return {k: v for k, v in c.execute(q)}

    # Lock rows live in kv under "lock:<key>"; ``updated_at`` is the lease's start. Taking one is an INSERT …
    # ON CONFLICT DO NOTHING (one winner among racers, both engines); a row older than its lease (its holder
    # died) is taken over with a conditional UPDATE on that same stamp, so two takers cannot both win.
    def try_lock(self, member_id: str, key: str, owner: str, seconds: float) -> bool:
        k, now = f"lock:{key}"[:255], _now()
        value = {"owner": owner, "seconds": float(seconds)}
        with self.engine.begin() as c:
            got = c.execute(_insert(self.engine, t_kv).values(member_id=member_id, key=k, value=value, updated_at=now)
                            .on_conflict_do_nothing().returning(t_kv.c.key)).first()
        if got is not None:
            return True
        with self.engine.begin() as c:
            row = c.execute(sa.select(t_kv.c.value, t_kv.c.updated_at)
                            .where(t_kv.c.member_id == member_id, t_kv.c.key == k)).first()
            if row is None:
                return False                      # released meanwhile: the caller tries again
            held, since = row
            since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
            if (now - since).total_seconds() < float((held or {}).get("seconds") or seconds):
                return False
            done = c.execute(sa.update(t_kv).where(t_kv.c.member_id == member_id, t_kv.c.key == k,
                                                   t_kv.c.updated_at == row[1])
                             .values(value=value, updated_at=now))
            return done.rowcount == 1

    def unlock(self, member_id: str, key: str, owner: str) -> None:
        k = f"lock:{key}"[:255]
        with self.engine.begin() as c:
            row = c.execute(sa.select(t_kv.c.value, t_kv.c.updated_at)
                            .where(t_kv.c.member_id == member_id, t_kv.c.key == k)).first()
            if row is not None and (row[0] or {}).get("owner") == owner:
                c.execute(sa.delete(t_kv).where(t_kv.c.member_id == member_id, t_kv.c.key == k,
                                                t_kv.c.updated_at == row[1]))


class SQLStore(Store):
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.portals = SQLPortalStore(engine)
        self.inbox = SQLInbox(engine)
        self.kv = SQLKV(engine)
        self.user_tokens = SQLUserTokens(engine)
        self.page_sessions = SQLPageSessions(engine)
        self.phone_links = SQLPhoneLinks(engine)
        self.downloads = SQLDownloads(engine)

    def close(self) -> None:
        self.engine.dispose()
