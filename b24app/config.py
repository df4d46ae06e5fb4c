"""Settings from the environment; defaults suit the embedded (single-server) mode.

This is the one module that reads ``os.environ``: every variable README's "Configuration" table lists is a
field here (tests/app/test_config.py holds the two equal). Services pass ``settings`` on; the two values
that code without a Services reads (the encryption keys of secretbox, the manifest path) are read through
``Settings.from_env()`` at the moment they are needed, so a rotated key is seen without a restart."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace


def _positive_int(value: str | None, name: str, default: int) -> int:
    raw = str(value or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    client_id: str = ""
    client_secret: str = field(default="", repr=False)   # never in a repr: Settings may end up in a log line
    oauth_server: str = "https://oauth.bitrix.info"
    public_url: str = "http://127.0.0.1:8025"
    database_url: str = "sqlite:///b24app.db"
    allow_http_portals: bool = False
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    bx24_js_url: str = "//api.bitrix24.com/api/v1/"
    frame_check_ttl: int = 60          # seconds an AUTH_ID verified with the portal stays trusted
    frame_reject_ttl: int = 30         # seconds an AUTH_ID the portal refused is refused without asking
    frame_check_max_wait: float = 5.0  # longest wait for the portal's request budget before "busy" (503)
    worker_poll_seconds: float = 0.5
    # B24APP_INBOX_PER_PORTAL: most inbox items of one portal in flight across every worker (store claim)
    inbox_per_portal: int = 10
    # B24APP_REDIS_URL: the portals' request budgets shared through Redis (else PostgreSQL; b24app/throttle.py)
    redis_url: str = field(default="", repr=False)      # may carry a password
    metrics_token: str = field(default="", repr=False)  # B24APP_METRICS_TOKEN: Bearer token for GET /metrics
    outbound_allow: str = ""           # B24APP_OUTBOUND_ALLOW: CIDRs / host names beyond public addresses (outbound.py)
    # B24APP_PHOTO_HOSTS: photo link origins besides the portal's (maps/job_timeline.py)
    photo_hosts: str = ""
    # B24APP_DOMAINS: enabled domains, comma-separated; empty = all (b24app/domains.py)
    domains: str = ""
    tiles_url: str = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"     # map tiles (orders map, company map)
    nominatim_url: str = "https://nominatim.openstreetmap.org"                 # geocoder (maps/geocoding.py)
    geocoder_user_agent: str = "b24app/0.1 (+https://github.com/b24app)"       # Nominatim's policy asks for one
    geocoder_min_interval: float = 1.0  # seconds between geocoder requests, deployment-wide (maps_rate_limits)
    osrm_url: str = ""                 # an OSRM router for travel times; "" = straight line × road factor
    manifest: str = ""                 # B24APP_MANIFEST: an integrator's own app.json (install/manifest.py)
    encryption_keys: str = field(default="", repr=False)   # B24APP_ENCRYPTION_KEYS (b24app/secretbox.py)

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        s = cls(
            client_id=env.get("B24_CLIENT_ID", ""),
            client_secret=env.get("B24_CLIENT_SECRET", ""),
            oauth_server=env.get("B24_OAUTH_SERVER", cls.oauth_server).rstrip("/"),
            public_url=env.get("B24APP_PUBLIC_URL", cls.public_url).rstrip("/"),
            database_url=env.get("B24APP_DATABASE_URL", cls.database_url),
            allow_http_portals=_flag(env.get("B24APP_ALLOW_HTTP_PORTALS")),
            secret_key=env.get("B24APP_SECRET_KEY") or secrets.token_hex(32),
            bx24_js_url=env.get("B24APP_BX24_JS_URL", cls.bx24_js_url),
            outbound_allow=env.get("B24APP_OUTBOUND_ALLOW", ""),
            photo_hosts=env.get("B24APP_PHOTO_HOSTS", ""),
            domains=env.get("B24APP_DOMAINS", ""),
            tiles_url=env.get("B24APP_TILES_URL") or cls.tiles_url,
            nominatim_url=(env.get("B24APP_NOMINATIM_URL") or cls.nominatim_url).rstrip("/"),
            geocoder_user_agent=env.get("B24APP_GEOCODER_USER_AGENT") or cls.geocoder_user_agent,
            geocoder_min_interval=float(env.get("B24APP_GEOCODER_MIN_INTERVAL") or cls.geocoder_min_interval),
            redis_url=env.get("B24APP_REDIS_URL", "").strip(),
            metrics_token=env.get("B24APP_METRICS_TOKEN", "").strip(),
            inbox_per_portal=_positive_int(env.get("B24APP_INBOX_PER_PORTAL"), "B24APP_INBOX_PER_PORTAL",
                                           cls.inbox_per_portal),
            osrm_url=env.get("B24APP_OSRM_URL", "").strip(),
            manifest=env.get("B24APP_MANIFEST", "").strip(),
            # B24APP_ENCRYPTION_KEY (one key) is the older spelling, still accepted
            encryption_keys=(env.get("B24APP_ENCRYPTION_KEYS") or env.get("B24APP_ENCRYPTION_KEY") or "").strip(),
        )
        return replace(s, **overrides) if overrides else s
