"""``b24app sandbox``: run one sandbox portal (with its OAuth server) until Ctrl-C, for the demo and for
integrators pointing a script, fast-bitrix24 or b24pysdk at it."""
from __future__ import annotations

import threading

from . import SandboxCloud


def main(host: str = "127.0.0.1", port: int = 8024, seed: str = "demo", client_id: str | None = None,
         client_secret: str | None = None, app_url: str | None = None, webhook_code: str | None = None,
         install_url: str | None = None, scope=None, plan: str = "standard", install: str | None = None,
         stop: threading.Event | None = None, demo_app=None):
    """Start the portal, register the app when ``client_id`` is given, print the URLs, block.

    ``install`` = "frame" | "event" installs the app at start-up (frame mode waits for installFinish).
    ``stop`` lets a caller (tests, the demo launcher) end the loop instead of Ctrl-C.
    ``demo_app``: the app the demo seed is shaped for (demo.DemoApp or its mapping; needed for seed "demo").
    """
    cloud = SandboxCloud(demo_app=demo_app)
    portal = cloud.add_portal(seed=seed, host=host, port=port, plan=plan, webhook_code=webhook_code)
    if client_id:
        base = (app_url or "").rstrip("/")
        cloud.register_app(client_id, client_secret, handler_url=(app_url or ""),
                           install_url=install_url or (base + "/install" if base else ""), scope=scope,
                           app_url=app_url)
        if install:
            portal.install_app(client_id, mode=install)
    print(f"Bitrix24 sandbox portal: {portal.url}/", flush=True)
    print(f"  REST (OAuth):   {portal.client_endpoint}", flush=True)
    print(f"  OAuth server:   {cloud.oauth_url}/", flush=True)
    print(f"  Webhook (admin): {portal.webhook_url}", flush=True)
    print(f"  member_id:      {portal.member_id}", flush=True)
    print(f"  Control API:    {portal.url}/_sandbox/ (this machine only, or header "
          f"X-Sandbox-Control-Token: {portal.control_token})", flush=True)
    if seed == "demo":
        from .demo import FIELD_WORKER

        print(f"  Field worker:   user {FIELD_WORKER}, CRM role \"own deals\" (portal pages: ?user={FIELD_WORKER})",
              flush=True)
    if client_id:
        print(f"  App {client_id}: {portal.url}/marketplace/app/{client_id}/", flush=True)
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        cloud.shutdown()
    return portal
