"""The stable JSON feed for Power BI / Excel: ``GET /api/reports/feed`` with a per-portal token.

The token is shown once, when an administrator creates or rotates it; we keep only its SHA-256
(``reports_feed_tokens``), one per portal, so rotating replaces the old one at once. It travels in the
``Authorization: Bearer …`` header only — never in a URL, so neither our access log nor a proxy's holds
it. The feed's shape is versioned (``FEED_VERSION``) and documented in docs/reports_feed.md: fields are
only ever added, never renamed or removed, within a version."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from b24app.errors import said

FEED_VERSION = 1
PREFIX = "b24r_"

metadata = sa.MetaData()
t_tokens = sa.Table(
    "reports_feed_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True)), sa.Column("created_by", sa.BigInteger),
)


class FeedRefused(Exception):
    """No token, or not one we issued (or one rotated away)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate(engine, member_id: str, user_id: int | None) -> str:
    """A new token for the portal (the old one stops working now); the token itself is returned once."""
    token = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as c:
        c.execute(sa.delete(t_tokens).where(t_tokens.c.member_id == member_id))
        c.execute(sa.insert(t_tokens).values(token_hash=_hash(token), member_id=member_id,
                                             created_at=datetime.now(timezone.utc), created_by=user_id))
    return token


def revoke(engine, member_id: str) -> bool:
    with engine.begin() as c:
        return c.execute(sa.delete(t_tokens).where(t_tokens.c.member_id == member_id)).rowcount > 0


def info(engine, member_id: str) -> dict:
    with engine.connect() as c:
        r = c.execute(sa.select(t_tokens.c.created_at, t_tokens.c.created_by)
                      .where(t_tokens.c.member_id == member_id)).first()
    if r is None:
        return {"exists": False}
    at = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=timezone.utc)
    return {"exists": True, "created_at": at.isoformat(), "created_by": r.created_by}


def member_of(engine, authorization: str | None) -> str:
    """The portal whose token this ``Authorization`` header carries, else FeedRefused."""
    raw = str(authorization or "")
    token = raw[7:].strip() if raw[:7].lower() == "bearer " else ""
    if not token.startswith(PREFIX) or len(token) > 200:
        raise FeedRefused(said("a feed token is expected in the header Authorization: Bearer b24r_…",
                               "нужен токен потока в заголовке Authorization: Bearer b24r_…"))
    h = _hash(token)
    with engine.connect() as c:
        r = c.execute(sa.select(t_tokens.c.token_hash, t_tokens.c.member_id).where(t_tokens.c.token_hash == h)).first()
    if r is None or not hmac.compare_digest(r.token_hash, h):
        raise FeedRefused(said("this feed token is not valid (it may have been rotated)",
                               "токен потока недействителен (возможно, его заменили)"))
    return r.member_id


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def document(doc: dict, domain: str) -> dict:
    """The dashboard document as the feed's stable shape (no charts, money as numbers)."""
    keep = ("period", "filters", "regions", "totals", "employees", "trend", "types", "sales", "sales_totals",
            "jobs", "jobs_totals")
    out = {"feed_version": FEED_VERSION, "portal": domain,
           "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "cached_at": (doc.get("read") or {}).get("cached_at")}
    out.update({k: _plain(doc.get(k)) for k in keep})
    return out
