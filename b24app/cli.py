"""``b24app`` console script: serve | worker | scheduler | sandbox | demo | keygen | rotate-keys.

``demo`` is the one-command tour (``make demo``): a sandbox portal with demo data, this app registered
and installed into it, the inbox worker running, and the URL of the portal page that shows the app in
its frame. Everything runs in one process; the SQLite file lives under ./instance/.

Composition root (with b24app/app.py and b24app/domains.py): the worker and the scheduler build the
registry of enabled domains here, exactly as ``create_app`` does.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import secrets
import threading
from pathlib import Path

import click

from install.cli import install_command
from install.demo_shape import demo_app

from . import domains, logsafe, metrics, rotation, secretbox
from .config import Settings
from .inbox import Worker
from .scheduler import Scheduler
from .services import Services
from .store import open_store


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("b24pysdk_NullLogger").setLevel(logging.WARNING)
    logsafe.install()           # after basicConfig: the root handler exists now


def _require_key() -> None:
    """No encryption key, no process (b24app/secretbox.py): a click error instead of a traceback."""
    try:
        secretbox.require_key()
    except secretbox.SecretBoxError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main() -> None:
    """b24app: a Bitrix24 app (Flask) with its own sandbox portal."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the web app (installer, events, robots, frames) with werkzeug's threaded server."""
    from werkzeug.serving import run_simple  # the web server only for serve

    from .app import create_app  # flask + every blueprint: only serve/demo pay for them

    _logging()
    _require_key()
    run_simple(host, port, create_app(), threaded=True, use_reloader=False)


@main.command()
@click.option("--offline-every", default=60.0, show_default=True, help="seconds between offline-event sweeps")
def worker(offline_every: float) -> None:
    """Run the inbox worker: handlers for queued events and robot calls, plus the offline-event sweep."""
    _logging()
    _require_key()
    settings = Settings.from_env()
    w = Worker(Services(settings, open_store(settings.database_url), registry=domains.build(settings=settings)))
    click.echo(f"inbox worker {w.owner} started")
    try:
        w.run_forever(offline_every=offline_every)
    except KeyboardInterrupt:
        w.stop()


@main.command()
def scheduler() -> None:
    """Run the periodic jobs of every installed portal (one scheduler process per deployment)."""
    _logging()
    _require_key()
    settings = Settings.from_env()
    s = Scheduler(Services(settings, open_store(settings.database_url), registry=domains.build(settings=settings)))
    if not s.start():
        click.echo("another scheduler process is running; this one will wait for its lock")
        while not s.start():
            threading.Event().wait(30)
    click.echo("scheduler started")
    try:
        s.run_forever()
    except KeyboardInterrupt:
        s.shutdown()


@main.command()
def keygen() -> None:
    """Print a new encryption key for B24APP_ENCRYPTION_KEYS (secrets at rest)."""
    click.echo(secretbox.generate_key())


@main.command()
def status() -> None:
    """The deployment at a glance: portals by status, queued work by kind (depth, age, retries) — the
    figures GET /metrics gives a scraper."""
    settings = Settings.from_env()
    store = open_store(settings.database_url)
    try:
        for line in metrics.summary(metrics.collect(store, registry=domains.build(settings=settings))):
            click.echo(line)
    finally:
        store.close()


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Re-seal every stored secret with the first key of B24APP_ENCRYPTION_KEYS.

    Rotation: put the new key first and keep the old ones after it (B24APP_ENCRYPTION_KEYS=new,old),
    restart the processes, run this, then drop the old keys."""
    _logging()
    _require_key()
    settings = Settings.from_env()
    registry = domains.build(settings=settings)
    store = open_store(settings.database_url)
    shown: dict[str, int] = {}

    def progress(name: str, done: int, total: int) -> None:
        if done == total or done - shown.get(name, 0) >= 100:
            shown[name] = done
            click.echo(f"{name}: {done}/{total}")

    try:
        counts = rotation.rotate(store, registry, progress)
    finally:
        store.close()
    click.echo("re-sealed with the first key: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8024, show_default=True, type=int)
@click.option("--seed", default="demo", show_default=True, type=click.Choice(["demo", "empty"]))
@click.option("--webhook-code", default=None, help="the admin's incoming-webhook code (default: random per run)")
@click.option("--plan", default="standard", show_default=True, type=click.Choice(["standard", "enterprise"]),
              help="rate limit of the plan: 2 req/s burst 50, or 5 req/s burst 250")
@click.option("--client-id", default=None, help="register an app with this client_id (with --client-secret)")
@click.option("--client-secret", default=None)
@click.option("--app-url", default=None, help="the app's base URL: handler /app, installer /install")
@click.option("--install", "install_mode", default=None, type=click.Choice(["frame", "event"]),
              help="install the registered app at start-up")
def sandbox(host: str, port: int, seed: str, webhook_code: str | None, plan: str, client_id: str | None,
            client_secret: str | None, app_url: str | None, install_mode: str | None) -> None:
    """Run one sandbox portal (REST, OAuth server, portal pages) until Ctrl-C."""
    _need_sandbox()
    from b24sandbox import cli as sandbox_cli  # a development package, imported on use

    sandbox_cli.main(host=host, port=port, seed=seed, webhook_code=webhook_code, plan=plan, client_id=client_id,
                     client_secret=client_secret, app_url=app_url, install=install_mode,
                     demo_app=demo_app() if seed == "demo" else None)


def _need_sandbox() -> None:
    """The emulators are a development package of their own (sandbox/ in the repository), not in the
    product's wheel: say how to get them instead of a traceback."""
    if importlib.util.find_spec("b24sandbox") is None:
        raise click.ClickException(
            "the sandbox portal is not installed: it is a development package kept beside b24app in its "
            "repository (sandbox/). From a checkout run `make demo`, or `pip install -e ./sandbox` into this "
            "environment.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--portal-port", default=8024, show_default=True, type=int)
@click.option("--app-port", default=8025, show_default=True, type=int)
def demo(host: str, portal_port: int, app_port: int) -> None:
    """Sandbox portal + this app installed in it; prints the URL to open; Ctrl-C stops both."""
    _need_sandbox()
    _logging()
    stop = threading.Event()
    parts = start_demo(host, portal_port, app_port)
    click.echo(f"Bitrix24 sandbox portal: {parts['portal'].url}/")
    click.echo(f"  Webhook (admin): {parts['portal'].webhook_url}")
    click.echo(f"  App {parts['client_id']} at {parts['app_url']}/")
    click.echo(f"Open {parts['open_url']}")
    click.echo(f"  as the field worker (CRM role: own deals only): {parts['open_url']}?user={parts['field_worker']}")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        click.echo("stopping…")
    finally:
        stop_demo(parts)


def start_demo(host: str, portal_port: int, app_port: int, db_path: str | None = None) -> dict:
    """Start everything ``b24app demo`` runs and return the pieces (tests use this directly)."""
    from werkzeug.serving import make_server  # the web server only for demo

    from .app import create_app  # flask + every blueprint: only serve/demo pay for them
    # The emulators are a development package (sandbox/), not in the product's wheel: imported on use.
    from b24sandbox import SandboxCloud
    from b24sandbox import demo as demo_seed

    cloud = SandboxCloud(demo_app=demo_app())
    portal = cloud.add_portal(seed="demo", host=host, port=portal_port)
    client_id = f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"
    client_secret = secrets.token_urlsafe(36)[:50]
    app_url = f"http://{host}:{app_port}"
    cloud.register_app(client_id, client_secret, handler_url=app_url + "/app", install_url=app_url + "/install")
    if db_path is None:
        Path("instance").mkdir(exist_ok=True)
        db_path = str(Path("instance").resolve() / "b24app-demo.db")
    _demo_key(Path(db_path).with_suffix(".key"))
    settings = Settings(client_id=client_id, client_secret=client_secret, oauth_server=cloud.oauth_url,
                        public_url=app_url, database_url=f"sqlite:///{db_path}", allow_http_portals=True,
                        bx24_js_url=f"http://{host}:{portal.port}/api/v1/",
                        # the sandbox portal (its photo links) and a local 1C run on this machine
                        outbound_allow=Settings.from_env().outbound_allow or f"127.0.0.0/8,::1/128,{host}")
    app = create_app(settings)
    server = make_server(host, app_port, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.1,), name="b24app-http", daemon=True).start()
    w = Worker(app.extensions["b24"])
    threading.Thread(target=w.run_forever, kwargs={"offline_every": 30.0}, name="b24app-worker",
                     daemon=True).start()
    sched = Scheduler(app.extensions["b24"])
    result = portal.install_app(client_id, mode="frame")
    if result.get("status") != 200:
        raise click.ClickException(f"installing the app into the sandbox failed: {result.get('status')} "
                                   f"{result.get('error') or result.get('text', '')[:300]}")
    portal.finish_install(client_id)        # what the installer page's BX24.installFinish() does
    threading.Thread(target=_demo_rules, args=(app.extensions["b24"], portal), name="b24app-demo-rules",
                     daemon=True).start()
    if sched.start():
        threading.Thread(target=sched.run_forever, name="b24app-scheduler", daemon=True).start()
    return {"scheduler": sched, "cloud": cloud, "portal": portal, "client_id": client_id, "app_url": app_url,
            "app": app, "server": server, "worker": w, "open_url": f"{portal.url}/marketplace/app/{client_id}/",
            "field_worker": demo_seed.FIELD_WORKER}


def _demo_rules(services, portal, wait: float = 120.0) -> None:
    """Seed 004's deal rules on the demo portal once the install job is done (its event bindings exist):
    the preset with its pipelines and fields, and deals and leads that make each rule fire (rules/demo.py);
    the stays the portal cannot backdate through REST are set on the emulator here."""
    import time as _time

    from b24app.install_flow import progress_of
    from b24sandbox.filters import MSK
    from rules import demo as rules_demo

    deadline = _time.time() + wait
    while _time.time() < deadline and progress_of(services.store, portal.member_id).get("state") != "done":
        _time.sleep(0.5)
    try:
        out = rules_demo.seed(services, portal.member_id)
    except Exception as exc:  # noqa: BLE001 - the tour goes on without the rules' data
        click.echo(f"demo: seed 004's rules were not installed: {exc}")
        return
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    with portal.db.lock:
        for (kind, rid), days in out["backdate"].items():
            row = (portal.db.leads if kind == "lead" else portal.db.deals).get(rid)
            if row is not None:
                row["MOVED_TIME"] = (now - timedelta(days=days)).astimezone(MSK).isoformat(timespec="seconds")
    click.echo(f"demo: seed 004's deal rules installed (pipeline {out['variables']['category']}, "
               f"{len(out['deals'])} deals, {len(out['leads'])} leads)")


def _demo_key(path: Path) -> None:
    """The demo seals secrets like production does: without B24APP_ENCRYPTION_KEYS it uses the key kept
    beside its database (made on the first run, mode 0600), so the next run still opens that database.
    Set in this process's environment, so every part the demo starts (and any child process) has it."""
    if secretbox.configured():
        return
    if path.exists():
        key = path.read_text().strip()
    else:
        key = secretbox.generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        click.echo(f"demo: new encryption key in {path} (set {secretbox.ENV_KEYS} to use your own)")
    os.environ[secretbox.ENV_KEYS] = key


def stop_demo(parts: dict) -> None:
    parts["scheduler"].shutdown()
    parts["worker"].stop()
    parts["server"].shutdown()
    parts["server"].server_close()
    parts["cloud"].shutdown()
    parts["app"].extensions["b24"].store.close()


main.add_command(install_command, "install")

if __name__ == "__main__":
    main()
