"""Services: what handlers, workers and the CLI share — settings, the store, the registry of enabled
domains (b24app/registry.py), the OAuth client, the token manager, the process-wide throttle, and a
PortalClient per portal on demand."""
from __future__ import annotations

import copy
import time
from datetime import datetime

from .acting import ActingServices
from .core_plugin import core_registry
from .oauth import OAuthClient, TokenManager, installed_portal
from .portal import PortalClient
from .throttle import Throttle, shared_throttle


class Services:
    def __init__(self, settings, store, *, oauth: OAuthClient | None = None, throttle: Throttle | None = None,
                 client_options: dict | None = None, registry=None):
        self.settings, self.store = settings, store
        self.registry = registry if registry is not None else core_registry()
        self.oauth = oauth or OAuthClient(settings)
        self.tokens = TokenManager(store, self.oauth)
        burst = getattr(settings, "rate_burst", 50)
        drain = getattr(settings, "rate_drain", 2.0)
        self.throttle = throttle or shared_throttle(settings, getattr(store, "engine", None), burst, drain)
        self.client_options = client_options or {}
        # "Now" for domain rules that refuse the past (maps.booking_rules): the wall clock in production;
        # tests hand in the sandbox portal's clock, so the demo's days are the portal's days.
        self.clock = time.time

    def now(self, tz) -> datetime:
        """The current time in ``tz`` by ``self.clock``."""
        return datetime.fromtimestamp(self.clock(), tz)

    def client(self, member_id: str) -> PortalClient:
        installed_portal(self.store, member_id)          # refuse early: not installed / needs reinstall
        return PortalClient(member_id, self.store, self.tokens, self.throttle, self.settings, **self.client_options)

    def using(self, registry) -> "Services":
        """The same services (store, tokens, throttle shared) seen through another registry — a worker
        or a test given its own."""
        other = copy.copy(self)
        other.registry = registry
        return other

    # The app's own token, said explicitly where a read fills a cache every user shares (see acting.py).
    app_client = client

    def acting_as(self, member_id: str, user_id: int):
        """The same services, but portal calls carry this person's own token (b24app/acting.py)."""
        return ActingServices(self, member_id, user_id)
