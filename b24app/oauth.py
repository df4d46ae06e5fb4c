"""Talking to the OAuth server (reference §1.3) and keeping one portal's tokens fresh.

``OAuthClient`` only ever calls the configured ``settings.oauth_server``: the client_secret must not
follow a ``server_endpoint`` that arrived in a request. ``TokenManager`` refreshes only on demand
(after a 401 ``expired_token`` — the docs forbid timer refreshes) and exactly once per token
version across threads and processes: a lease row-update picks the one refresher, the others poll
until ``token_version`` moves. Refresh tokens rotate, so a spent one is never sent twice.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import requests

from .errors import NeedsReinstall, OAuthError, PortalNotInstalled
from .logsafe import scrub
from .store.interface import NEEDS_REINSTALL, Portal

log = logging.getLogger(__name__)


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: int | None
    expires_in: int | None
    member_id: str
    client_endpoint: str
    server_endpoint: str
    scope: str
    domain: str
    user_id: int | None
    status: str

    @classmethod
    def from_response(cls, d: dict) -> "TokenSet":
        expires_in = int(d["expires_in"]) if d.get("expires_in") not in (None, "") else None
        expires = d.get("expires")
        if expires in (None, "") and expires_in is not None:
            expires = int(time.time()) + expires_in
        return cls(access_token=d["access_token"], refresh_token=d["refresh_token"],
                   expires_at=int(expires) if expires not in (None, "") else None, expires_in=expires_in,
                   member_id=d.get("member_id", ""), client_endpoint=d.get("client_endpoint", ""),
                   server_endpoint=d.get("server_endpoint", ""), scope=d.get("scope", ""),
                   domain=d.get("domain", ""), user_id=int(d["user_id"]) if d.get("user_id") else None,
                   status=d.get("status", ""))


class OAuthClient:
    def __init__(self, settings, timeout: float = 20.0):
        self.settings = settings
        self.base = settings.oauth_server.rstrip("/")
        self.timeout = timeout

    def _get(self, url: str, params: dict) -> dict:
        """The documented GET (reference §1.3: the docs show only GET for /oauth/token/, so the secret
        and the tokens travel in the query). Hence no error here ever carries the URL or a body that
        could echo it: a transport failure is the exception's type, nothing else."""
        try:
            r = requests.get(url, params=params, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise OAuthError("CONNECTION_ERROR", type(exc).__name__, None) from None
        try:
            body = r.json()
        except ValueError:
            raise OAuthError("ERROR_UNEXPECTED_ANSWER", f"not JSON (HTTP {r.status_code})", r.status_code) from None
        if not isinstance(body, dict):
            raise OAuthError("ERROR_UNEXPECTED_ANSWER", f"not a JSON object (HTTP {r.status_code})", r.status_code)
        if r.status_code >= 400 or body.get("error"):
            raise OAuthError(scrub(str(body.get("error", ""))), scrub(str(body.get("error_description", ""))),
                             r.status_code)
        return body

    def _grant(self, **params) -> TokenSet:
        params.update(client_id=self.settings.client_id, client_secret=self.settings.client_secret)
        return TokenSet.from_response(self._get(self.base + "/oauth/token/", params))

    def exchange_code(self, code: str) -> TokenSet:
        """Step 2 of the full OAuth flow; the code lives 30 s."""
        return self._grant(grant_type="authorization_code", code=code)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._grant(grant_type="refresh_token", refresh_token=refresh_token)

    def app_info(self, access_token: str) -> dict:
        """The trusted install lookup: which portal/app/user this token really belongs to (§1.6)."""
        return self._get(self.base + "/rest/app.info", {"auth": access_token}).get("result", {})


def installed_portal(store, member_id: str) -> Portal:
    """The portal record we may call on behalf of, or why not (never installed / gone / needs reinstall)."""
    p = store.portals.get(member_id)
    if p is None or p.status == "uninstalled":
        raise PortalNotInstalled(member_id)
    if p.status == NEEDS_REINSTALL:
        raise NeedsReinstall(member_id)
    return p


def refresh_once(manager, member_id: str, seen_version: int, read, try_lease, do_refresh, timeout_text: str) -> str:
    """The one refresh protocol for every token row (a portal's, a person's): whoever wins the lease on
    version ``seen_version`` refreshes; the others poll until the version moves, then use what was saved.
    ``read(member_id) -> (version, access_token, row)``; ``do_refresh(row, owner) -> access_token``."""
    deadline = time.monotonic() + manager.wait_seconds
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    with manager._local:
        while True:
            version, access, row = read(member_id)
            if version != seen_version:
                return access
            if try_lease(owner):
                return do_refresh(row, owner)
            if time.monotonic() > deadline:
                raise OAuthError("REFRESH_TIMEOUT", timeout_text)
            time.sleep(manager.poll_seconds)


class TokenManager:
    def __init__(self, store, oauth: OAuthClient, lease_seconds: float = 30.0, wait_seconds: float = 45.0,
                 poll_seconds: float = 0.05):
        self.store, self.oauth = store, oauth
        self.lease_seconds, self.wait_seconds, self.poll_seconds = lease_seconds, wait_seconds, poll_seconds
        self._local = threading.Lock()      # fewer DB round-trips when threads of one process pile up

    def portal(self, member_id: str) -> Portal:
        return installed_portal(self.store, member_id)

    def current(self, member_id: str) -> tuple[str | None, int]:
        p = self.portal(member_id)
        return p.access_token, p.token_version

    def refresh(self, member_id: str, seen_version: int) -> str:
        """The access token that replaces version ``seen_version``: ours if we win the lease, else
        whatever the winner saved."""
        def read(_member_id):
            p = self.portal(member_id)
            return p.token_version, p.access_token, p
        return refresh_once(self, member_id, seen_version, read,
                            lambda owner: self.store.portals.try_lease_refresh(member_id, seen_version, owner,
                                                                               self.lease_seconds),
                            self._do_refresh, f"no new token for {member_id} after {self.wait_seconds}s")

    def _do_refresh(self, p: Portal, owner: str) -> str:
        try:
            ts = self.oauth.refresh(p.refresh_token or "")
        except OAuthError as exc:
            if exc.invalid_grant:
                self.store.portals.set_status(p.member_id, NEEDS_REINSTALL)
                log.error("portal %s (%s): refresh token rejected (invalid_grant: %s) — status needs_reinstall; "
                          "an administrator must reinstall the app", p.member_id, p.domain, exc.description)
                raise NeedsReinstall(p.member_id, exc.description) from exc
            self.store.portals.release_refresh_lease(p.member_id, owner)
            raise
        if not self.store.portals.save_tokens(p.member_id, p.token_version, ts.access_token, ts.refresh_token,
                                              ts.expires_at):
            # A re-install wrote tokens while we refreshed; those are newer than ours.
            log.warning("portal %s: tokens changed during refresh; using the stored ones", p.member_id)
            return self.portal(p.member_id).access_token
        log.info("portal %s: access token refreshed (version %d -> %d)", p.member_id, p.token_version,
                 p.token_version + 1)
        return ts.access_token
