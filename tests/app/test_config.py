"""All configuration comes through ``config.Settings``: every variable README's "Configuration" table lists is
read by ``Settings.from_env`` into a field, README lists every variable ``from_env`` reads, and no other
module reads ``os.environ``."""
from __future__ import annotations

import pytest

import re
from dataclasses import fields
from pathlib import Path

from b24app.config import Settings

ROOT = Path(__file__).resolve().parents[2]

# variable → (value to set, field, what the field must hold)
VALUES = {
    "B24_CLIENT_ID": ("app.123", "client_id", "app.123"),
    "B24_CLIENT_SECRET": ("s3cret", "client_secret", "s3cret"),
    "B24_OAUTH_SERVER": ("https://oauth.bitrix24.tech/", "oauth_server", "https://oauth.bitrix24.tech"),
    "B24APP_PUBLIC_URL": ("https://app.example/", "public_url", "https://app.example"),
    "B24APP_DATABASE_URL": ("postgresql+psycopg://u@h/db", "database_url", "postgresql+psycopg://u@h/db"),
    "B24APP_ALLOW_HTTP_PORTALS": ("yes", "allow_http_portals", True),
    "B24APP_ENCRYPTION_KEYS": ("k1,k2", "encryption_keys", "k1,k2"),
    "B24APP_SECRET_KEY": ("sk", "secret_key", "sk"),
    "B24APP_BX24_JS_URL": ("http://portal/api/v1/", "bx24_js_url", "http://portal/api/v1/"),
    "B24APP_OUTBOUND_ALLOW": ("10.0.0.0/8,onec.local", "outbound_allow", "10.0.0.0/8,onec.local"),
    "B24APP_PHOTO_HOSTS": ("files.example", "photo_hosts", "files.example"),
    "B24APP_TILES_URL": ("https://tiles.example/{z}/{x}/{y}.png", "tiles_url", "https://tiles.example/{z}/{x}/{y}.png"),
    "B24APP_NOMINATIM_URL": ("http://geo.local:8080/", "nominatim_url", "http://geo.local:8080"),
    "B24APP_GEOCODER_USER_AGENT": ("acme-dispatch/2", "geocoder_user_agent", "acme-dispatch/2"),
    "B24APP_GEOCODER_MIN_INTERVAL": ("0.25", "geocoder_min_interval", 0.25),
    "B24APP_OSRM_URL": ("http://osrm.local:5000", "osrm_url", "http://osrm.local:5000"),
    "B24APP_MANIFEST": ("/etc/b24app/app.json", "manifest", "/etc/b24app/app.json"),
    "B24APP_DOMAINS": ("install,maps", "domains", "install,maps"),
    "B24APP_INBOX_PER_PORTAL": ("4", "inbox_per_portal", 4),
    "B24APP_REDIS_URL": ("redis://127.0.0.1:6379/0", "redis_url", "redis://127.0.0.1:6379/0"),
    "B24APP_METRICS_TOKEN": ("m-tok", "metrics_token", "m-tok"),
}


def _readme_variables() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Configuration (environment)", 1)[1].split("\n## ", 1)[0]
    return {v for line in table.splitlines() if line.startswith("| `") for v in re.findall(r"`(B24\w+)`", line)}


def _read_by_from_env() -> set[str]:
    source = (ROOT / "b24app" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'env\.get\("(B24\w+)"', source))


def test_readme_lists_exactly_what_from_env_reads():
    assert _readme_variables() == _read_by_from_env() - {"B24APP_ENCRYPTION_KEY"}   # the old one-key spelling


def test_every_readme_variable_lands_in_its_field():
    assert set(VALUES) == _readme_variables()
    s = Settings.from_env({k: v for k, (v, _, _) in VALUES.items()})
    for var, (_, name, want) in VALUES.items():
        assert getattr(s, name) == want, var


def test_defaults_without_environment():
    s = Settings.from_env({})
    assert s.tiles_url.startswith("https://") and s.nominatim_url == "https://nominatim.openstreetmap.org"
    assert s.geocoder_min_interval == 1.0 and s.osrm_url == "" and s.manifest == "" and s.encryption_keys == ""
    assert Settings.from_env({"B24APP_ENCRYPTION_KEY": "old"}).encryption_keys == "old"
    assert {f.name for f in fields(Settings)} >= {name for _, name, _ in VALUES.values()}


@pytest.mark.parametrize("bad", ["0", "-3", "ten", "2.5"])
def test_a_bad_number_is_refused_naming_the_variable(bad):
    with pytest.raises(ValueError, match="B24APP_INBOX_PER_PORTAL must be a whole number of at least 1"):
        Settings.from_env({"B24APP_INBOX_PER_PORTAL": bad})


def test_no_module_but_config_reads_the_environment():
    readers = []
    for package in ("b24app", "handlers", "maps", "visits", "sync_1c", "reports", "desk", "install", "calcwork"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "config.py" and path.parent.name == "b24app" or "sandbox" in path.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"os\.environ(?!\[[^\]]+\]\s*=)|os\.getenv", line) and not line.lstrip().startswith("#"):
                    readers.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert readers == []


def test_no_secret_in_the_settings_repr():
    """Settings may be logged or shown in a traceback; its repr must not carry what it guards."""
    from b24app.config import Settings

    s = Settings(client_secret="cs-" + "x" * 20, secret_key="sk-" + "y" * 20, encryption_keys="ek-" + "z" * 20)
    text = repr(s)
    assert "cs-xxxx" not in text and "sk-yyyy" not in text and "ek-zzzz" not in text
    assert "client_id" in text                              # the rest is still there to read
