"""Acting as a person: what someone starts from a page runs with that person's own portal token, so the
portal applies its CRM permissions and records the real author. The app's own token (``Services``) is
for the app's own work: installer, sweeps, 1C sync, rules, robots, shared caches.

``ActingServices`` looks like ``Services`` to domain code (store, settings, kv, ...) but its ``client()``
is the user's; ``app_client()`` stays the app's for the few reads that fill a cache shared by everyone.
Only the web kit (handlers/common.py) builds one, from a verified page session — no handler picks a token.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import replace

from .errors import OAuthError, PortalNotInstalled, UserSessionExpired
from .oauth import installed_portal, refresh_once
from .portal import PortalClient
from .store.interface import Portal

log = logging.getLogger(__name__)


class UserTokenManager:
    """The TokenManager shape (``portal``/``refresh``) over one user's row in ``user_tokens``: refreshed
    on demand with REFRESH_ID, once per token version across processes (lease + compare-and-swap)."""

    def __init__(self, store, oauth, user_id: int, lease_seconds: float = 30.0, wait_seconds: float = 45.0,
                 poll_seconds: float = 0.05):
        self.store, self.oauth, self.user_id = store, oauth, int(user_id)
        self.lease_seconds, self.wait_seconds, self.poll_seconds = lease_seconds, wait_seconds, poll_seconds
        self._local = threading.Lock()

    def portal(self, member_id: str) -> Portal:
        """The portal record with the *user's* access token and version in place of the app's."""
        p = installed_portal(self.store, member_id)
        ut = self.store.user_tokens.get(member_id, self.user_id)
        if ut is None or not ut.access_token:
            raise UserSessionExpired(member_id, self.user_id, "no tokens of this user are kept")
        return replace(p, access_token=ut.access_token, refresh_token=None, token_version=ut.token_version)

    def refresh(self, member_id: str, seen_version: int) -> str:
        def read(_member_id):
            ut = self.store.user_tokens.get(member_id, self.user_id)
            if ut is None:
                raise UserSessionExpired(member_id, self.user_id, "no tokens of this user are kept")
            return ut.token_version, ut.access_token, ut
        return refresh_once(self, member_id, seen_version, read,
                            lambda owner: self.store.user_tokens.try_lease_refresh(
                                member_id, self.user_id, seen_version, owner, self.lease_seconds),
                            self._do_refresh, "no new user token in time")

    def _do_refresh(self, ut, owner: str) -> str:
        if not ut.refresh_token:
            raise UserSessionExpired(ut.member_id, self.user_id, "no refresh token")
        try:
            ts = self.oauth.refresh(ut.refresh_token)
        except OAuthError as exc:
            if exc.invalid_grant:
                self.store.user_tokens.drop(ut.member_id, self.user_id)
                log.info("portal %s user %s: refresh token refused; the user must reopen the app",
                         ut.member_id, self.user_id)
                raise UserSessionExpired(ut.member_id, self.user_id, "refresh refused") from None
            self.store.user_tokens.release_lease(ut.member_id, self.user_id, owner)
            raise
        if ts.member_id and ts.member_id != ut.member_id:
            raise UserSessionExpired(ut.member_id, self.user_id, "the OAuth server named another portal")
        if ts.user_id is not None and int(ts.user_id) != self.user_id:
            raise UserSessionExpired(ut.member_id, self.user_id, "the OAuth server named another user")
        if not self.store.user_tokens.save(ut.member_id, self.user_id, ut.token_version, ts.access_token,
                                           ts.refresh_token, ts.expires_at):
            return self.store.user_tokens.get(ut.member_id, self.user_id).access_token
        return ts.access_token


class ActingServices:
    """``Services`` for one person of one portal; everything but the token is shared with the app."""

    def __init__(self, base, member_id: str, user_id: int):
        self._base, self.acting_member_id, self.acting_user_id = base, member_id, int(user_id)
        self.user_tokens = UserTokenManager(base.store, base.oauth, user_id)

    def __getattr__(self, name):
        return getattr(self._base, name)

    def client(self, member_id: str) -> PortalClient:
        if member_id != self.acting_member_id:
            # One portal's page never reaches another portal, whatever an argument says.
            raise PortalNotInstalled(member_id)
        return PortalClient(member_id, self._base.store, self.user_tokens, self._base.throttle,
                            self._base.settings, **self._base.client_options)

    def app_client(self, member_id: str) -> PortalClient:
        return self._base.client(member_id)
