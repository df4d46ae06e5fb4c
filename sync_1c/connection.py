"""Per-portal 1C connection settings (in store.kv) and the start-up connection check.

Why kv and not the environment: every portal connects to its own infobase. The password is stored
(the sync needs it) sealed with the deployment's key (b24app.secretbox: a copied database gives nobody
the 1C login), and `public()` — what any API answer or log line may show — never contains it. The push
secret is sealed the same way.
The check runs before each sync: `$metadata` + the profile's required names give a clear list of
problems ("add X to the OData composition") instead of a failure deep inside a pull.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from b24app import secretbox
from b24app.store.tables import kv as t_kv

from . import profiles
from .odata import ODataClient, ODataError
from .payments import DEFAULT_TZ

KV_KEY = "sync_1c.connection"
INTERVAL_KEY = "sync_1c.interval"          # read by the scheduler (seconds)
PUSH_SECRET_KEY = "sync_1c.push_secret"
AUTO_FORWARD_KEY = "sync_1c.auto_forward"  # {category_id: {from_stage_id: to_stage_id}}
REREAD_KEY = "sync_1c.reread_at"          # last re-read of documents older than the window (UTC ISO)
GATE_KEY = "sync_1c.gate"                  # {"enabled": bool, "categories": [ids] | None}
SECRET_FIELDS = ("password",)


class NotConfigured(LookupError):
    """The portal has no 1C connection: the sync says so and does nothing."""


@dataclass
class Connection:
    base_url: str
    username: str
    password: str = field(repr=False)
    profile: str = "ut11_5"
    tz: str = DEFAULT_TZ
    lookback_days: int = 35
    reread_days: int = 7                  # re-read every held document older than the window this often
    reconcile_hours: int = 24             # open deals' orders against 1C's order-state register this often
    interval: int = 600
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5

    def public(self) -> dict:
        """Safe to return in an API answer or write to a log."""
        d = asdict(self)
        for k in SECRET_FIELDS:
            d[k + "_set"] = bool(d.pop(k))
        return d

    def client(self, guard=None) -> ODataClient:
        """``guard``: the outbound guard of the deployment (``OutboundGuard.from_settings``); without
        one, the environment's (``outbound.default_guard``)."""
        return ODataClient(self.base_url, self.username, self.password, timeout=self.timeout,
                           retries=self.retries, backoff=self.backoff, guard=guard)

    def profile_obj(self) -> profiles.Profile:
        return profiles.get(self.profile)


def _opened(raw: dict) -> dict:
    return {**raw, **{k: secretbox.unseal(raw[k]) for k in SECRET_FIELDS if raw.get(k)}}


def _sealed(conn: Connection) -> dict:
    d = asdict(conn)
    return {**d, **{k: secretbox.seal(d[k]) for k in SECRET_FIELDS if d.get(k)}}


def save(kv, member_id: str, **values) -> Connection:
    """Create or update; a missing/None password keeps the stored one (forms never echo it back)."""
    old = _opened(kv.get(member_id, KV_KEY) or {})
    merged = {**old, **{k: v for k, v in values.items() if v is not None}}
    conn = Connection(**merged)
    profiles.get(conn.profile)                      # unknown profile → KeyError now, not at sync time
    kv.set(member_id, KV_KEY, _sealed(conn))
    kv.set(member_id, INTERVAL_KEY, int(conn.interval))
    return conn


def load(kv, member_id: str) -> Connection:
    raw = kv.get(member_id, KV_KEY)
    if not raw:
        raise NotConfigured(f"no 1C connection configured for portal {member_id}")
    return Connection(**_opened(raw))


def push_secret(kv, member_id: str, *, create: bool = True) -> str | None:
    """The shared secret a 1C HTTP service sends with pushes; generated on first use, stored sealed."""
    s = secretbox.unseal(kv.get(member_id, PUSH_SECRET_KEY))
    if not s and create:
        s = secrets.token_urlsafe(32)
        kv.set(member_id, PUSH_SECRET_KEY, secretbox.seal(s))
    return s


def reseal(kv, member_id: str) -> bool:
    """This portal's 1C password and push secret sealed again with the first key (``b24app
    rotate-keys``); legacy plain text gets sealed. True when there was anything to reseal."""
    changed = False
    raw = kv.get(member_id, KV_KEY)
    if raw and any(raw.get(k) for k in SECRET_FIELDS):
        kv.set(member_id, KV_KEY, {**raw, **{k: secretbox.reseal(raw[k]) for k in SECRET_FIELDS if raw.get(k)}})
        changed = True
    s = kv.get(member_id, PUSH_SECRET_KEY)
    if s:
        kv.set(member_id, PUSH_SECRET_KEY, secretbox.reseal(s))
        changed = True
    return changed


def reseal_all(store, progress=None) -> int:
    """``b24app rotate-keys`` for sync_1c (registered in b24app.domains): every portal that has a 1C
    password or push secret stored."""
    with store.engine.connect() as c:
        ids = list(c.execute(sa.select(t_kv.c.member_id).where(t_kv.c.key.in_((KV_KEY, PUSH_SECRET_KEY)))
                             .distinct().order_by(t_kv.c.member_id)).scalars())
    for i, member_id in enumerate(ids, 1):
        reseal(store.kv, member_id)
        if progress is not None:
            progress(i, len(ids))
    return len(ids)


def check(conn: Connection, client: ODataClient | None = None, guard=None) -> list[str]:
    """Problems found at start-up (empty = ready): unreachable base, bad login, or names the profile
    needs that the published OData composition lacks. In our words only (``str(ODataError)``)."""
    return check_full(conn, client, guard)[0]


def check_full(conn: Connection, client: ODataClient | None = None, guard=None) -> tuple[list[str], list[str]]:
    """(problems, warnings): warnings name what the profile would use but can do without (the order-state
    register) — the sync runs, with less."""
    client = client or conn.client(guard)
    try:
        profile = conn.profile_obj()
    except KeyError as exc:
        return [str(exc)], []
    try:
        xml = client.metadata()
    except ODataError as exc:
        return [f"1C $metadata is not readable at {conn.base_url}: {exc}"], []
    return list(profile.check_against_metadata(xml)), profiles.missing_optional(xml, profile)
