"""Who is using a page, kept on our side: page sessions (only a hash of the bearer id is stored), each
portal user's own tokens (sealed, refreshed like the portal's with a lease and compare-and-swap), and the
phone links a user made for himself.

A user's tokens are one row per (portal, user): every frame the user opens posts fresh ones, every page
session and phone link of that user acts through the same row, so a rotating refresh token is spent once.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from b24app import secretbox

meta = sa.MetaData()

user_tokens = sa.Table(
    "user_tokens", meta,
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("access_token", sa.Text),
    sa.Column("refresh_token", sa.Text),
    sa.Column("expires_at", sa.BigInteger),
    sa.Column("token_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("refresh_owner", sa.String(128)),
    sa.Column("refresh_lease_until", sa.Float),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

page_sessions = sa.Table(
    "page_sessions", meta,
    sa.Column("sid_hash", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("placement", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("link_id", sa.String(64)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

phone_links = sa.Table(
    "phone_links", meta,
    sa.Column("link_hash", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("label", sa.String(255), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
)


def digest(secret: str) -> str:
    """What we store instead of a bearer secret: a database dump gives nobody a session."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _insert(engine, table):
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


@dataclass(frozen=True)
class UserTokens:
    member_id: str
    user_id: int
    access_token: str | None
    refresh_token: str | None
    expires_at: int | None
    token_version: int


class SQLUserTokens:
    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def get(self, member_id: str, user_id: int) -> UserTokens | None:
        t = user_tokens.c
        with self.engine.connect() as c:
            row = c.execute(sa.select(user_tokens).where(t.member_id == member_id, t.user_id == int(user_id))).first()
        if row is None:
            return None
        m = row._mapping
        return UserTokens(m["member_id"], int(m["user_id"]), secretbox.unseal(m["access_token"]),
                          secretbox.unseal(m["refresh_token"]), m["expires_at"], int(m["token_version"]))

    def put(self, member_id: str, user_id: int, access: str, refresh: str | None, expires_at: int | None) -> None:
        """Tokens a verified frame posted: newer than whatever we hold, so they replace it (and any
        refresh in flight loses its compare-and-swap)."""
        values = dict(member_id=member_id, user_id=int(user_id), access_token=secretbox.seal(access),
                      refresh_token=secretbox.seal(refresh), expires_at=expires_at, token_version=0,
                      refresh_owner=None, refresh_lease_until=None, updated_at=datetime.now(timezone.utc))
        ins = _insert(self.engine, user_tokens).values(**values)
        changed = {k: ins.excluded[k] for k in ("access_token", "refresh_token", "expires_at", "refresh_owner",
                                                "refresh_lease_until", "updated_at")}
        changed["token_version"] = user_tokens.c.token_version + 1
        with self.engine.begin() as c:
            c.execute(ins.on_conflict_do_update(index_elements=[user_tokens.c.member_id, user_tokens.c.user_id],
                                                set_=changed))

    def try_lease_refresh(self, member_id: str, user_id: int, version: int, owner: str, seconds: float) -> bool:
        t = user_tokens.c
        now = time.time()
        stmt = (sa.update(user_tokens)
                .where(t.member_id == member_id, t.user_id == int(user_id), t.token_version == version,
                       sa.or_(t.refresh_lease_until.is_(None), t.refresh_lease_until < now, t.refresh_owner == owner))
                .values(refresh_owner=owner, refresh_lease_until=now + seconds))
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount == 1

    def release_lease(self, member_id: str, user_id: int, owner: str) -> None:
        t = user_tokens.c
        with self.engine.begin() as c:
            c.execute(sa.update(user_tokens).where(t.member_id == member_id, t.user_id == int(user_id),
                                                   t.refresh_owner == owner)
                      .values(refresh_owner=None, refresh_lease_until=None))

    def save(self, member_id: str, user_id: int, expected_version: int, access: str, refresh: str,
             expires_at: int | None) -> bool:
        t = user_tokens.c
        stmt = (sa.update(user_tokens)
                .where(t.member_id == member_id, t.user_id == int(user_id), t.token_version == expected_version)
                .values(access_token=secretbox.seal(access), refresh_token=secretbox.seal(refresh),
                        expires_at=expires_at, token_version=t.token_version + 1, refresh_owner=None,
                        refresh_lease_until=None, updated_at=datetime.now(timezone.utc)))
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount == 1

    def drop(self, member_id: str, user_id: int) -> None:
        t = user_tokens.c
        with self.engine.begin() as c:
            c.execute(sa.delete(user_tokens).where(t.member_id == member_id, t.user_id == int(user_id)))

    def all_rows(self):
        """(member_id, user_id, sealed access, sealed refresh) — for key rotation."""
        with self.engine.connect() as c:
            return list(c.execute(sa.select(user_tokens.c.member_id, user_tokens.c.user_id,
                                            user_tokens.c.access_token, user_tokens.c.refresh_token)))

    def reseal_row(self, member_id: str, user_id: int, access: str | None, refresh: str | None) -> None:
        t = user_tokens.c
        with self.engine.begin() as c:
            c.execute(sa.update(user_tokens).where(t.member_id == member_id, t.user_id == int(user_id))
                      .values(access_token=access, refresh_token=refresh))


class SQLPageSessions:
    def __init__(self, engine: sa.Engine, clock=time.time):
        self.engine, self.clock = engine, clock

    def put(self, sid: str, row: dict) -> None:
        now = self.clock()
        with self.engine.begin() as c:
            c.execute(sa.delete(page_sessions).where(page_sessions.c.member_id == row["member_id"],
                                                     page_sessions.c.expires_at < now))
            c.execute(sa.insert(page_sessions).values(sid_hash=digest(sid), **row))

    def get(self, sid: str) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(page_sessions).where(page_sessions.c.sid_hash == digest(sid))).first()
        return dict(row._mapping) if row is not None else None

    def delete_for_link(self, member_id: str, link_id: str) -> int:
        p = page_sessions.c
        with self.engine.begin() as c:
            return c.execute(sa.delete(page_sessions).where(p.member_id == member_id, p.link_id == link_id)).rowcount


class SQLPhoneLinks:
    """A phone link is a bearer secret of its own (never a page session): stored as a hash, scoped to one
    user, revocable."""

    def __init__(self, engine: sa.Engine, clock=time.time):
        self.engine, self.clock = engine, clock

    def add(self, link: str, member_id: str, user_id: int, lang: str, label: str = "") -> str:
        h = digest(link)
        with self.engine.begin() as c:
            c.execute(sa.insert(phone_links).values(link_hash=h, member_id=member_id, user_id=int(user_id),
                                                    lang=lang, label=label[:255], created_at=self.clock()))
        return h

    def get(self, link: str) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(phone_links).where(phone_links.c.link_hash == digest(link))).first()
        return dict(row._mapping) if row is not None else None

    def get_by_id(self, member_id: str, link_id: str) -> dict | None:
        p = phone_links.c
        with self.engine.connect() as c:
            row = c.execute(sa.select(phone_links).where(p.member_id == member_id, p.link_hash == link_id)).first()
        return dict(row._mapping) if row is not None else None

    def touch(self, link_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.update(phone_links).where(phone_links.c.link_hash == link_id)
                      .values(last_used_at=self.clock()))

    def list(self, member_id: str, user_id: int | None = None) -> list[dict]:
        p = phone_links.c
        q = sa.select(phone_links).where(p.member_id == member_id).order_by(p.created_at)
        if user_id is not None:
            q = q.where(p.user_id == int(user_id))
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(q)]

    def revoke(self, member_id: str, link_id: str) -> bool:
        p = phone_links.c
        with self.engine.begin() as c:
            return c.execute(sa.update(phone_links).where(p.member_id == member_id, p.link_hash == link_id,
                                                          p.revoked_at.is_(None))
                             .values(revoked_at=self.clock())).rowcount == 1
