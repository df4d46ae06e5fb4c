"""SandboxCloud: what Bitrix24 runs centrally — one OAuth server, the app registrations (client_id and
secret, handler and installer URLs, scopes) and the token book — shared by N sandbox portals."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from .clock import SystemClock
from .tokens import TokenBook

DEFAULT_SCOPE = ["crm", "placement", "user", "bizproc", "calendar", "task", "im", "entity", "department",
                 "userfieldconfig", "telephony"]


@dataclass
class AppRegistration:
    """A local/market app as registered in Developer resources (reference §1.1)."""

    client_id: str
    client_secret: str
    handler_url: str                 # the app page ("Your handler path")
    install_url: str                 # "Initial installation path" / installation event handler
    scope: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPE))
    app_url: str | None = None       # OAuth redirect_uri for the authorization-code flow
    version: str = "1"
    code: str = ""


class SandboxCloud:
    """One OAuth server + N portals. ``cloud.oauth_url`` is served by the first portal's HTTP server."""

    def __init__(self, clock=None, demo_app=None):
        self.clock = clock or SystemClock()
        self.demo_app = demo_app     # the app seed="demo" is shaped for (demo.DemoApp or its mapping)
        self.apps: dict[str, AppRegistration] = {}
        self.tokens = TokenBook(self.clock)
        self.portals: list = []

    # --- apps -------------------------------------------------------------------------------------
    def register_app(self, client_id: str | None = None, client_secret: str | None = None,
                     handler_url: str = "", install_url: str | None = None, scope=None,
                     app_url: str | None = None, version: str = "1") -> AppRegistration:
        client_id = client_id or f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"
        app = AppRegistration(
            client_id=client_id,
            client_secret=client_secret or secrets.token_urlsafe(36)[:50],
            handler_url=handler_url,
            install_url=install_url or handler_url,
            scope=list(scope) if scope is not None else list(DEFAULT_SCOPE),
            app_url=app_url,
            version=str(version),
            code=client_id,
        )
        self.apps[client_id] = app
        return app

    # --- portals ----------------------------------------------------------------------------------
    def add_portal(self, seed: str = "empty", host: str = "127.0.0.1", port: int = 0,
                   plan: str = "standard", webhook_code: str | None = None):
        from .portal import SandboxPortal

        portal = SandboxPortal(self, seed=seed, host=host, port=port, plan=plan, webhook_code=webhook_code)
        self.portals.append(portal)
        return portal

    def portal_by_member(self, member_id: str):
        return next((p for p in self.portals if p.member_id == member_id), None)

    @property
    def oauth_url(self) -> str:
        """``http://H:P/oauth-server`` of the first portal (token endpoint at ``/oauth/token/``)."""
        if not self.portals:
            raise RuntimeError("add a portal first: the OAuth server lives on the first portal's server")
        return self.portals[0].url + "/oauth-server"

    @property
    def oauth_domain(self) -> str:
        return self.portals[0].domain

    @property
    def server_endpoint(self) -> str:
        return self.oauth_url + "/rest/"

    def refresh_count(self, member_id: str | None = None) -> int:
        if member_id:
            return self.tokens.refresh_count.get(member_id, 0)
        return sum(self.tokens.refresh_count.values())

    def shutdown(self) -> None:
        for p in self.portals:
            p.shutdown()
