"""Settings from the environment; defaults suit the embedded (single-server) mode."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    client_id: str = ""
    client_secret: str = ""
    oauth_server: str = "https://oauth.bitrix.info"
    public_url: str = "http://127.0.0.1:8025"
    database_url: str = "sqlite:///b24app.db"
    allow_http_portals: bool = False
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    bx24_js_url: str = "//api.bitrix24.com/api/v1/"
    frame_check_ttl: int = 60          # seconds an AUTH_ID verified with the portal stays trusted
    frame_reject_ttl: int = 30         # seconds an AUTH_ID the portal refused is refused without asking
    frame_check_max_wait: float = 5.0  # longest wait for the portal's request budget before "busy" (503)
    worker_poll_seconds: float = 0.5
    outbound_allow: str = ""           # B24APP_OUTBOUND_ALLOW: CIDRs / host names beyond public addresses (outbound.py)
    photo_hosts: str = ""              # B24APP_PHOTO_HOSTS: photo link origins besides the portal's (maps/job_timeline.py)
    domains: str = ""                  # B24APP_DOMAINS: enabled domains, comma-separated; empty = all (b24app/domains.py)

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
        )
        return replace(s, **overrides) if overrides else s
