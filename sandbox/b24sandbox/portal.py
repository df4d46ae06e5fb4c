"""SandboxPortal: one emulated Bitrix24 portal — its HTTP server, tables, app installs, limits, faults,
event bus and request log. Tests and the demo drive it through these attributes; method handlers
reach it as ``ctx.portal``."""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server

from . import install as _install
from .events import EventBus
from .faults import Faults
from .limits import Limits
from .tokens import Grant, TokenPair

PLANS = {"standard": (2.0, 50), "enterprise": (5.0, 250)}


@dataclass
class PortalSettings:
    """Plan-dependent knobs. ``rate_limit=False`` switches the leaky bucket off."""

    plan: str = "standard"
    rate_limit: bool = True
    operating_limit: float = 480.0      # seconds per app×method over 10 minutes (docs' worked example)
    # Modeled database time per row a list examines (COUNT of an offset page, the rows it skips, the rows a
    # keyset page reads): what makes offset paging and unindexed filters cost more on a big portal. 2 µs a
    # row is this sandbox's assumption (a COUNT over 1M deals ≈ 2 s), not a documented figure; 0 = off.
    row_cost: float = 2e-6
    event_delay: float = 0.0            # extra delay before each online event POST (the queue is not instant)
    webhook_scope: list[str] | None = None   # None = every scope
    # feature.get answers (methods/features.py); rest_offline_extended off = event.offline.get clear=0 refused
    features: dict = field(default_factory=lambda: {"rest_offline_extended": True, "rest_auth_connector": True})

    @property
    def drain(self) -> float:
        return PLANS.get(self.plan, PLANS["standard"])[0]

    @property
    def burst(self) -> int:
        return PLANS.get(self.plan, PLANS["standard"])[1]


@dataclass
class AppInstall:
    """An app's presence on this portal (b_rest_app row): tokens are issued against it."""

    client_id: str
    application_token: str
    scope: list[str]
    installed: bool = False             # INSTALLED flag; true after installFinish / at once for API-only apps
    version: str = "1"
    status: str = "L"
    lang: str = "ru"
    user_id: int = 1


@dataclass
class RequestRecord:
    method: str
    params: dict
    auth_kind: str | None
    client_id: str | None
    status: int
    error: str | None
    time: float
    user_id: int | None = None
    via: str = "http"                  # "http" | "batch" (a sub-call of a batch)


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log on stderr: ``portal.log`` is the record."""

    def log_request(self, *args, **kwargs):
        pass


class _NoDB:
    """Stand-in until b24sandbox.db exists (the domain tables are written separately)."""

    def __init__(self, *a, **k):
        pass


def _new_db():
    try:
        from .db import PortalDB
    except ImportError:
        return _NoDB()
    return PortalDB()


class SandboxPortal:
    def __init__(self, cloud, seed="empty", host="127.0.0.1", port=0, plan="standard", webhook_code=None):
        from . import methods  # noqa: F401  (registers every REST method module)
        from .server import make_wsgi_app

        self.cloud = cloud
        self.member_id = secrets.token_hex(16)
        self.settings = PortalSettings(plan=plan)
        self.installs: dict[str, AppInstall] = {}
        self.log: list[RequestRecord] = []
        self.deliveries: list = []
        self.webhook_code = webhook_code or secrets.token_hex(8)
        self.control_token = secrets.token_urlsafe(24)   # /_sandbox/ from another machine (control.py)
        self.webhook_user_id = 1
        self.lock = threading.RLock()
        self.db = _new_db()
        if seed == "demo":
            self._seed_demo()
        self.faults = Faults()
        self.limits = Limits(self)
        self.events = EventBus(self)
        self._server = make_server(host, port, make_wsgi_app(self), threaded=True,
                                   request_handler=_QuietHandler)
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()

    # --- addresses ----------------------------------------------------------------------------------
    @property
    def clock(self):
        return self.cloud.clock

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.domain}"

    @property
    def client_endpoint(self) -> str:
        return self.url + "/rest/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/rest/{self.webhook_user_id}/{self.webhook_code}/"

    @property
    def refresh_count(self) -> int:
        """How many refresh_token grants the OAuth server served for this portal."""
        return self.cloud.refresh_count(self.member_id)

    # --- users --------------------------------------------------------------------------------------
    def is_admin(self, user_id: int | None) -> bool:
        fn = getattr(self.db, "is_admin", None)
        if callable(fn):
            return bool(fn(user_id))
        return user_id == 1

    # --- CRM permissions (perms.py) -----------------------------------------------------------------
    def set_crm_role(self, user_id: int, role: dict | None) -> None:
        """Give a user a CRM role: ``{"deal": "own", "company": "all", "dynamic_1046": {"READ": "all",
        "WRITE": "own"}, "deal_c3": "department", "*": "none"}`` — levels none/own/department/subdepartment/
        open/all, per entity (deal, lead, contact, company, dynamic_<entityTypeId> or the entityTypeId,
        ``<entity>_c<pipeline>``) and optionally per action (READ, ADD, WRITE, DELETE; missing ones = none).
        Entities the role does not name fall back to ``"*"``, else none. ``None`` removes the role: a user
        without one (and every admin) has every permission. Raises ValueError on an unknown name."""
        from . import perms

        perms.set_role(self.db, user_id, role)

    def crm_role(self, user_id: int) -> dict | None:
        """The user's role as stored ({ENTITY: {ACTION: level name}}), None if the user has none."""
        from . import perms

        role = self.db.crm_roles.get(int(user_id))
        return perms.describe_role(role) if role is not None else None

    # --- tokens -------------------------------------------------------------------------------------
    def issue_tokens(self, client_id: str, user_id: int = 1) -> TokenPair:
        """Fresh tokens of an installed app for a user (what the portal posts to frames and events)."""
        inst = self.installs[client_id]
        return self.cloud.tokens.issue(Grant(client_id, self.member_id, int(user_id), tuple(inst.scope)))

    def revoke_tokens(self, client_id: str) -> int:
        return self.cloud.tokens.revoke(client_id, self.member_id)

    def auth_block(self, client_id: str, user_id: int | None, refresh: bool = False) -> dict:
        """The ``auth[...]`` part of an event/robot POST; tokens only when a user is behind the change."""
        return self.events.auth_block(client_id, user_id, refresh=refresh)

    # --- install lifecycle (install.py) -------------------------------------------------------------
    def install_app(self, client_id: str, mode: str = "frame", lang: str = "ru") -> dict:
        return _install.install_app(self, client_id, mode=mode, lang=lang)

    def finish_install(self, client_id: str) -> None:
        _install.finish_install(self, client_id)

    def uninstall_app(self, client_id: str, clean: bool = True) -> None:
        _install.uninstall_app(self, client_id, clean=clean)

    def update_app(self, client_id: str, version: str) -> None:
        _install.update_app(self, client_id, version)

    # --- events (events.py) -------------------------------------------------------------------------
    def emit(self, event_name: str, data: dict, user_id: int | None = None) -> None:
        """Called by method handlers after a change: online handlers get a POST, offline ones a queue row."""
        self.events.emit(event_name, data, user_id)

    def send_event_raw(self, client_id: str, event: str, data: dict, user_id: int | None = 1,
                       handler: str | None = None) -> list:
        return self.events.send_raw(client_id, event, data, user_id=user_id, handler=handler)

    def wait_events(self, timeout: float = 30.0) -> bool:
        """Block until every queued online event has been POSTed (tests)."""
        return self.events.flush(timeout)

    # --- misc ---------------------------------------------------------------------------------------
    def _seed_demo(self) -> None:
        """Demo data dated by the portal's clock, so tests with a FakeClock get jobs around 'now'."""
        from . import demo

        demo.seed(self.db, self.clock.now(), app=self.cloud.demo_app)

    def record(self, rec: RequestRecord) -> None:
        with self.lock:
            self.log.append(rec)
        self.faults.observe(rec)

    def shutdown(self) -> None:
        self.events.stop()
        self._server.shutdown()
        self._server.server_close()
