"""Ingest throughput of POST /events (parsed, verified by application_token, written to the durable inbox)
against a bare Flask endpoint that only answers 200. Both run in a server process of their own (werkzeug's
threaded server, the same for both); the load comes from ``wrk`` in another process (8 connections, every
request a distinct event), so the client does not steal the server's interpreter. Without ``wrk`` on the
PATH a multiprocess Python client (``requests``, one process per connection) does the same job.

    python -m bench events_ingest            # BENCH_SECONDS=10 per row, BENCH_CONNECTIONS=8, BENCH_ROUNDS=3
    python -m bench.events_ingest serve KIND PORT DB_URL    # (what the bench starts; KIND bare|app)
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from multiprocessing import Pool

import requests

TITLE = "Event ingest: POST /events (verified, durable) vs a bare Flask endpoint, external load generator"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARM = 64
MEMBER_ID = "f" * 32
APP_TOKEN = "a" * 32
PORTAL = "portal.example"

_LUA = r"""
local n = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
init = function(args) prefix = tostring(os.time()) .. "-" .. tostring(tid) .. "-" end
request = function()
  n = n + 1
  local body = "event=ONCRMDEALUPDATE&event_handler_id=7&data%5BFIELDS%5D%5BID%5D=" .. n ..
    "&ts=" .. prefix .. n .. "&auth%5Bdomain%5D=portal.example" ..
    "&auth%5Bclient_endpoint%5D=https%3A%2F%2Fportal.example%2Frest%2F" ..
    "&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F" ..
    "&auth%5Bmember_id%5D=" .. "MEMBER" .. "&auth%5Bapplication_token%5D=" .. "TOKEN"
  return wrk.format("POST", "/events", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""


def _form(i: int, prefix: str) -> dict:
    return {"event": "ONCRMDEALUPDATE", "event_handler_id": "7", "data[FIELDS][ID]": str(i), "ts": f"{prefix}{i}",
            "auth[domain]": PORTAL, "auth[client_endpoint]": f"https://{PORTAL}/rest/",
            "auth[server_endpoint]": "https://oauth.bitrix.info/rest/", "auth[member_id]": MEMBER_ID,
            "auth[application_token]": APP_TOKEN}


# --- the server process -----------------------------------------------------------------------------------
def serve(kind: str, port: int, db_url: str) -> None:
    from flask import Flask
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *a, **k):
            pass

    if kind == "bare":
        app = Flask("bare")
        app.add_url_rule("/events", "events", lambda: ("", 200), methods=["POST"])
    else:
        from b24app.app import create_app
        from b24app.config import Settings
        from b24app.store import open_store
        from b24app.store.interface import INSTALLED, Portal

        store = open_store(db_url)
        store.portals.upsert(Portal(member_id=MEMBER_ID, domain=PORTAL, client_endpoint=f"https://{PORTAL}/rest/",
                                    server_endpoint="https://oauth.bitrix.info/rest/", application_token=APP_TOKEN,
                                    status=INSTALLED))
        app = create_app(Settings(database_url=db_url, secret_key="bench"), store=store)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet)
    print("ready", flush=True)
    server.serve_forever()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(kind: str, db_url: str = "") -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.events_ingest", "serve", kind, str(port), db_url],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    url = f"http://127.0.0.1:{port}"
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(CONNECTIONS) as pool:             # imports, and a pooled connection per thread
        list(pool.map(lambda i: requests.post(url + "/events", data=_form(i, "warm"), timeout=10), range(WARM)))
    return proc, url


# --- load generators -----------------------------------------------------------------------------------
def _wrk(url: str) -> dict:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(_LUA.replace("MEMBER", MEMBER_ID).replace("TOKEN", APP_TOKEN))
    script.close()
    out = subprocess.run(["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", "--latency",
                          "-s", script.name, url + "/events"], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "total": total, "ok": total - (int(bad.group(1)) if bad else 0),
            "errors": errors.group(1) if errors else ""}


def _client(args) -> list[tuple[int, float]]:
    url, worker, deadline = args
    s = requests.Session()
    out, i = [], 0
    while time.time() < deadline:
        i += 1
        t = time.perf_counter()
        code = s.post(url, data=_form(i, f"{worker}-{os.getpid()}-"), timeout=30).status_code
        out.append((code, time.perf_counter() - t))
    return out


def _python_clients(url: str) -> dict:
    deadline = time.time() + SECONDS
    with Pool(CONNECTIONS) as pool:
        res = [x for part in pool.map(_client, [(url + "/events", w, deadline) for w in range(CONNECTIONS)])
               for x in part]
    lat = sorted(d for _, d in res)
    return {"rps": len(res) / SECONDS, "p50": lat[len(lat) // 2] * 1000, "p99": lat[int(len(lat) * 0.99)] * 1000,
            "total": len(res), "ok": sum(1 for c, _ in res if c == 200), "errors": ""}


def _load(url: str) -> dict:
    return _wrk(url) if shutil.which("wrk") else _python_clients(url)


def _store_url(kind: str) -> str | None:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='b24bench-')}/events.db"
    import sqlalchemy as sa

    admin_url = os.environ.get("B24APP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = "b24bench_" + uuid.uuid4().hex[:8]
    try:
        with sa.create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:  # noqa: BLE001 - no PostgreSQL on this machine: skip that row
        return None
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _inbox_rows(db_url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        n = c.execute(sa.text("SELECT count(*) FROM inbox WHERE member_id = :m"), {"m": MEMBER_ID}).scalar()
    engine.dispose()
    return int(n)


def _one(kind: str, db_url: str) -> dict:
    proc, url = _start("bare" if kind == "bare" else "app", db_url)
    try:
        return _load(url)
    finally:
        proc.terminate()
        proc.wait()


def run() -> None:
    """Rounds of bare → SQLite → PostgreSQL back to back; each row of ours is divided by the bare row of its
    own round (the box's load moves between rounds), and the table shows the median over the rounds."""
    import statistics

    if not os.environ.get("B24APP_ENCRYPTION_KEYS"):          # the server process seals the portal's secrets
        from cryptography.fernet import Fernet

        os.environ["B24APP_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    gen = "wrk -t2 -c%d" % CONNECTIONS if shutil.which("wrk") else f"{CONNECTIONS} client processes"
    print(f"{SECONDS} s per row, {ROUNDS} rounds (median shown), {gen}, server: werkzeug threaded in its own "
          "process, loopback\n")
    urls = {kind: ("" if kind == "bare" else _store_url(kind)) for kind in ("bare", "sqlite", "postgres")}
    runs: dict[str, list] = {k: [] for k in urls if urls[k] is not None}
    for _ in range(ROUNDS):
        for kind in runs:
            r = _one(kind, urls[kind])
            r["ratio"] = r["rps"] / runs["bare"][-1]["rps"] if kind != "bare" else 1.0
            runs[kind].append(r)
    print("| endpoint | store | requests/s | ratio to bare (per round) | p50, ms | p99, ms | answered 200 | "
          "rows in inbox |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in ("bare", "sqlite", "postgres"):
        if kind not in runs:
            print(f"| b24app `/events` | {kind} | not run: database unreachable | | | | | |")
            continue
        rs = runs[kind]

        def med(key, rs=rs):
            return statistics.median(r[key] for r in rs)
        ok, total = sum(r["ok"] for r in rs), sum(r["total"] for r in rs)
        # less the warm-up events (the same forms every round: later rounds' copies are duplicates)
        stored = "—" if kind == "bare" else str(_inbox_rows(urls[kind]) - WARM)
        name = "bare Flask `return '', 200`" if kind == "bare" else "b24app `/events` (verify + inbox)"
        ratios = " ".join(f"{r['ratio']:.2f}" for r in rs)
        print(f"| {name} | {'—' if kind == 'bare' else kind} | {med('rps'):.0f} | {med('ratio'):.2f} ({ratios}) | "
              f"{med('p50'):.1f} | {med('p99'):.1f} | {ok} of {total} | {stored} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
    else:
        run()
