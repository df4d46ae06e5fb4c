"""Storage: ``open_store(url)`` → a Store with ``.portals``, ``.inbox``, ``.kv``, ``.engine``, ``.close()``.

Opening runs the Alembic migrations to head under a lock, so two processes opening a fresh
database do not race: PostgreSQL takes a transaction-level advisory lock; SQLite transactions are
all ``BEGIN IMMEDIATE`` (one writer, others wait ``busy_timeout``), and DDL is transactional on both.

Hot path (issue 19, ``bench/events_ingest.py``): a SQLite file's transactions also queue on a lock in this
process before ``BEGIN IMMEDIATE``, so threads of one process wait for each other without SQLite's busy
handler (which sleeps in steps of up to 100 ms: the p99 of a busy endpoint); ``busy_timeout`` is then only
for other processes and is short. PostgreSQL connections come from a pool without a pre-ping per checkout
(a round trip per request); a connection the server dropped fails once, the pool is invalidated, and the
inbox's ``put`` retries that once.
"""
from __future__ import annotations

import functools
import sqlite3
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from .interface import KV, Inbox, InboxItem, Portal, PortalStore, Store
from .sql import SQLStore

__all__ = ["open_store", "create_engine", "migrate", "Store", "Portal", "PortalStore", "Inbox", "InboxItem", "KV"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x6224A99     # any constant; the same in every process of this app
SQLITE_BUSY_MS = 5_000
SQLITE_LOCK_SECONDS = 30.0          # a transaction left open longer than this in one process is a bug
PG_POOL = {"pool_size": 10, "max_overflow": 20, "pool_recycle": 1800, "pool_pre_ping": False}


def create_engine(url: str) -> sa.Engine:
    """An engine tuned per backend: SQLite gets WAL, busy_timeout and BEGIN IMMEDIATE (so a reader
    that later writes can never hit SQLITE_BUSY mid-transaction) behind this process's own lock;
    PostgreSQL gets a pool without pre-ping."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() != "sqlite":
        return sa.create_engine(u, future=True, **PG_POOL)
    memory = u.database in (None, "", ":memory:")
    kw: dict = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}}
    if memory:
        kw["poolclass"] = StaticPool
    engine = sa.create_engine(u, **kw)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None          # the driver must not BEGIN on its own; we do below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        if not memory:
            _set_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    lock = threading.RLock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if not lock.acquire(timeout=SQLITE_LOCK_SECONDS):
            raise sqlite3.OperationalError("database is locked (by this process)")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            lock.release()
            raise
        conn.info["b24_lock"] = conn.info.get("b24_lock", 0) + 1

    def _on_end(conn):
        held = conn.info.pop("b24_lock", 0)
        for _ in range(held):
            lock.release()

    event.listen(engine, "commit", _on_end)
    event.listen(engine, "rollback", _on_end)
    return engine


def _set_wal(cur) -> None:
    """WAL is stored in the file, so only the first connection ever switches; that switch needs an
    exclusive lock and SQLite does not apply busy_timeout to it, hence the short retry loop."""
    deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
    while cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cur.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def alembic_config(connection=None):
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.lru_cache(maxsize=1)
def script_heads() -> frozenset[str]:
    """The migration heads this code ships, read from the scripts once per process."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def _at_heads(conn) -> bool:
    if not sa.inspect(conn).has_table("alembic_version"):
        return False
    return set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()) == script_heads()


def migrate(engine: sa.Engine, revision: str = "heads") -> None:
    """Every head: each domain package (maps, visits, sync_1c, ...) keeps its own migration branch
    starting at 0001, so packages add tables without fighting over one linear chain. A database already at
    the heads is left alone without loading every migration script (each web and worker process opens it)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        if revision == "heads" and _at_heads(conn):
            return
        command.upgrade(alembic_config(conn), revision)


def open_store(url: str, migrate_db: bool = True) -> SQLStore:
    engine = create_engine(url)
    if migrate_db:
        migrate(engine)
    return SQLStore(engine)
