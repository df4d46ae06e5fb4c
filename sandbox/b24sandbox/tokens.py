"""The OAuth server's token book: access tokens (1 h), rotating refresh tokens (180 d), auth codes (30 s).

Kept at cloud level because, as on Bitrix24, one OAuth server serves every portal (reference §1.3).
All lifetimes read the injectable clock.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

ACCESS_TTL = 3600
REFRESH_TTL = 180 * 86400
CODE_TTL = 30


@dataclass
class Grant:
    """What a token stands for: one app on one portal acting as one user."""

    client_id: str
    member_id: str
    user_id: int
    scope: tuple[str, ...]


@dataclass
class AccessToken:
    token: str
    grant: Grant
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    grant: Grant
    expires_at: float
    used: bool = False
    revoked: bool = False


@dataclass
class TokenPair:
    access: AccessToken
    refresh: RefreshToken


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int):
        super().__init__(error)
        self.error, self.description, self.status = error, description, status


@dataclass
class TokenBook:
    clock: object
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, tuple[Grant, float]] = field(default_factory=dict)
    refresh_count: dict[str, int] = field(default_factory=dict)    # member_id -> refresh grants served
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, grant: Grant) -> TokenPair:
        now = self.clock.now()
        a = AccessToken(_token(), grant, now + ACCESS_TTL)
        r = RefreshToken(_token(), grant, now + REFRESH_TTL)
        with self._lock:
            self.access[a.token] = a
            self.refresh[r.token] = r
        return TokenPair(a, r)

    def issue_code(self, grant: Grant) -> str:
        code = _token()
        with self._lock:
            self.codes[code] = (grant, self.clock.now() + CODE_TTL)
        return code

    def exchange_code(self, code: str, client_id: str) -> TokenPair:
        with self._lock:
            item = self.codes.pop(code, None)
        if not item or item[0].client_id != client_id or item[1] < self.clock.now():
            raise OAuthError("invalid_grant", "Invalid authorization code", 400)
        return self.issue(item[0])

    def use_refresh(self, token: str, client_id: str) -> TokenPair:
        """Rotate: the presented refresh token is spent; reusing it answers invalid_grant."""
        with self._lock:
            r = self.refresh.get(token)
            if (r is None or r.used or r.revoked or r.grant.client_id != client_id
                    or r.expires_at < self.clock.now()):
                raise OAuthError("invalid_grant", "Invalid refresh token", 400)
            r.used = True
            self.refresh_count[r.grant.member_id] = self.refresh_count.get(r.grant.member_id, 0) + 1
        return self.issue(r.grant)

    def lookup(self, token: str) -> AccessToken | None:
        return self.access.get(token)

    def revoke(self, client_id: str, member_id: str | None = None) -> int:
        n = 0
        with self._lock:
            for t in list(self.access.values()) + list(self.refresh.values()):
                if t.grant.client_id == client_id and member_id in (None, t.grant.member_id) and not t.revoked:
                    t.revoked = True
                    n += 1
        return n


def _token() -> str:
    # Real tokens are 70-odd hex-ish characters; length matters to nobody but looks familiar in logs.
    return secrets.token_hex(16) + "0000" + secrets.token_hex(14)
