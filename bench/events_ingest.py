"""Ingest throughput of POST /events (parsed, verified by application_token, written to the durable inbox)
against a bare Flask endpoint that only answers 200, on the same machine and the same werkzeug server."""
from __future__ import annotations

import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from b24app.app import create_app
from b24app.config import Settings
from b24app.store import open_store
from b24app.store.interface import INSTALLED, Portal

TITLE = "Event ingest: POST /events (verified, durable) vs a bare Flask endpoint"
N = int(os.environ.get("BENCH_EVENTS", "3000"))
THREADS = 8
MEMBER_ID = "f" * 32
APP_TOKEN = "a" * 32


class _Quiet(WSGIRequestHandler):
    def log_request(self, *a, **k):
        pass


def _serve(wsgi):
    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _form(i: int) -> dict:
    return {
        "event": "ONCRMDEALUPDATE", "event_handler_id": "7", "data[FIELDS][ID]": str(i), "ts": str(1_760_000_000 + i),
        "auth[domain]": "portal.example", "auth[client_endpoint]": "https://portal.example/rest/",
        "auth[server_endpoint]": "https://oauth.bitrix.info/rest/", "auth[member_id]": MEMBER_ID,
        "auth[application_token]": APP_TOKEN,
    }


def _blast(url: str) -> tuple[float, int]:
    local = threading.local()

    def post(i):
        s = getattr(local, "s", None) or setattr(local, "s", requests.Session()) or local.s
        return s.post(url, data=_form(i), timeout=30).status_code

    t = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        codes = list(pool.map(post, range(N)))
    return time.perf_counter() - t, sum(1 for c in codes if c == 200)


def _store_url(kind: str) -> str | None:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='b24bench-')}/events.db"
    import uuid

    import sqlalchemy as sa

    admin_url = os.environ.get("B24APP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = "b24bench_" + uuid.uuid4().hex[:8]
    try:
        with sa.create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:  # noqa: BLE001 - no PostgreSQL on this machine: skip that row
        return None
    return admin_url.rsplit("/", 1)[0] + "/" + name


def run() -> None:
    print(f"{N} events, {THREADS} client threads, werkzeug threaded server, loopback\n")
    print("| endpoint | store | accepted | wall time, s | events/s | rows in inbox |")
    print("|---|---|---|---|---|---|")
    bare = Flask("bare")
    bare.add_url_rule("/events", "events", lambda: ("", 200), methods=["POST"])
    server, url = _serve(bare)
    dt, ok = _blast(url + "/events")
    server.shutdown()
    print(f"| bare Flask `return '', 200` | — | {ok} | {dt:.2f} | {N / dt:.0f} | — |")

    for kind in ("sqlite", "postgres"):
        db_url = _store_url(kind)
        if db_url is None:
            print(f"| b24app /events | {kind} | not run: database unreachable | | | |")
            continue
        store = open_store(db_url)
        store.portals.upsert(Portal(member_id=MEMBER_ID, domain="portal.example",
                                    client_endpoint="https://portal.example/rest/",
                                    server_endpoint="https://oauth.bitrix.info/rest/",
                                    application_token=APP_TOKEN, status=INSTALLED))
        app = create_app(Settings(database_url=db_url, secret_key="bench"), store=store)
        server, url = _serve(app)
        dt, ok = _blast(url + "/events")
        server.shutdown()
        rows = sum(store.inbox.counts(MEMBER_ID).values())
        store.close()
        print(f"| b24app `/events` (verify + inbox) | {kind} | {ok} | {dt:.2f} | {N / dt:.0f} | {rows} |")
