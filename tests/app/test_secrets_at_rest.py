"""Issue 11 (7): secrets at rest. A portal installed over HTTP from the sandbox and a saved 1C connection
leave no credential readable in the database — not in the SQLite file's bytes (WAL included), not in
PostgreSQL's raw columns — and ``b24app rotate-keys`` moves everything to a new key so the old one can
be dropped. Also: legacy plain-text rows still read, the processes refuse to start without a key, and
the demo makes its own."""
from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.fernet import Fernet

from b24app import secretbox
from b24app.cli import _demo_key, main
from b24app.store.tables import kv as t_kv
from b24app.store.tables import portals as t_portals
from sync_1c import connection

PASSWORD = "1c-pa55word-Zq9-never-in-a-file"


@pytest.fixture
def store_url(db_url):
    return db_url


def _install_with_1c(live_app, portal) -> dict:
    assert live_app.install(portal)["progress"]["state"] == "done"
    m = portal.member_id
    connection.save(live_app.store.kv, m, base_url="http://127.0.0.1:9/odata/standard.odata", username="sync",
                    password=PASSWORD, profile="ut11_5")
    push = connection.push_secret(live_app.store.kv, m)
    p = live_app.store.portals.get(m)
    values = {"access_token": p.access_token, "refresh_token": p.refresh_token,
              "application_token": p.application_token, "1c password": PASSWORD, "push secret": push}
    assert all(values.values())
    return values


def _raw_bytes(live_app, url: str) -> bytes:
    """What a copy of the database gives: the SQLite file with its WAL, or PostgreSQL's raw column text."""
    if url.startswith("sqlite"):
        path = Path(sa.engine.make_url(url).database)
        return b"".join(f.read_bytes() for f in sorted(path.parent.glob(path.name + "*")))
    with live_app.store.engine.connect() as c:
        rows = c.execute(sa.select(sa.cast(t_portals.c.access_token, sa.Text), t_portals.c.refresh_token,
                                   t_portals.c.application_token)).all()
        kv_rows = c.execute(sa.select(sa.cast(t_kv.c.value, sa.Text))).scalars().all()
    return ("\n".join(str(v) for r in rows for v in r) + "\n".join(kv_rows)).encode()


def _readable(blob: bytes, values: dict) -> list[str]:
    return [name for name, v in values.items() if v.encode() in blob]


def test_secrets_unreadable_in_the_database_and_rotated_to_a_new_key(live_app, portal, store_url, monkeypatch):
    values = _install_with_1c(live_app, portal)
    m = portal.member_id
    assert _readable(_raw_bytes(live_app, store_url), values) == []
    with live_app.store.engine.connect() as c:
        row = c.execute(sa.select(t_portals).where(t_portals.c.member_id == m)).first()._mapping
        stored_1c = c.execute(sa.select(t_kv.c.value).where(t_kv.c.member_id == m,
                                                             t_kv.c.key == connection.KV_KEY)).scalar_one()
    assert all(row[k].startswith(secretbox.PREFIX) for k in ("access_token", "refresh_token", "application_token"))
    assert stored_1c["password"].startswith(secretbox.PREFIX) and stored_1c["username"] == "sync"

    # rotation: the new key first, the old one after it; rotate-keys; then the new key alone opens all
    old = os.environ[secretbox.ENV_KEYS]
    new = Fernet.generate_key().decode()
    env = {secretbox.ENV_KEYS: f"{new},{old}", "B24APP_DATABASE_URL": store_url}
    result = CliRunner().invoke(main, ["rotate-keys"], env=env)
    assert result.exit_code == 0, result.output[-500:]
    assert "portals 1" in result.output and "sync_1c 1" in result.output and "portals: 1/1" in result.output

    monkeypatch.setenv(secretbox.ENV_KEYS, new)
    p = live_app.store.portals.get(m)
    assert (p.access_token, p.refresh_token, p.application_token) == \
        (values["access_token"], values["refresh_token"], values["application_token"])
    assert connection.load(live_app.store.kv, m).password == PASSWORD
    assert connection.push_secret(live_app.store.kv, m, create=False) == values["push secret"]
    assert _readable(_raw_bytes(live_app, store_url), values) == []

    monkeypatch.setenv(secretbox.ENV_KEYS, old)           # the dropped key opens nothing any more
    with pytest.raises(secretbox.SecretBoxError):
        live_app.store.portals.get(m)
    with pytest.raises(secretbox.SecretBoxError):
        connection.load(live_app.store.kv, m)


def test_tokens_written_by_a_refresh_are_sealed_too(live_app, portal, store_url):
    values = _install_with_1c(live_app, portal)
    m = portal.member_id
    live_app.cloud.clock.advance(3601)
    live_app.services.client(m).call("user.current")           # 401 expired_token → refresh → CAS save_tokens
    p = live_app.store.portals.get(m)
    assert p.token_version > 0 and p.refresh_token != values["refresh_token"]
    fresh = {"new access_token": p.access_token, "new refresh_token": p.refresh_token}
    assert _readable(_raw_bytes(live_app, store_url), fresh) == []


def test_legacy_plain_text_rows_are_read_and_sealed_by_rotate_keys(live_app, portal, store_url):
    values = _install_with_1c(live_app, portal)
    m = portal.member_id
    raw = connection.load(live_app.store.kv, m)
    with live_app.store.engine.begin() as c:          # as a database written before encryption existed
        c.execute(sa.update(t_portals).where(t_portals.c.member_id == m)
                  .values(access_token=values["access_token"], refresh_token=values["refresh_token"],
                          application_token=values["application_token"]))
        c.execute(sa.update(t_kv).where(t_kv.c.member_id == m, t_kv.c.key == connection.KV_KEY)
                  .values(value=dataclasses.asdict(raw)))
    p = live_app.store.portals.get(m)
    assert (p.access_token, p.application_token) == (values["access_token"], values["application_token"])
    assert connection.load(live_app.store.kv, m).password == PASSWORD
    result = CliRunner().invoke(main, ["rotate-keys"], env={"B24APP_DATABASE_URL": store_url})
    assert result.exit_code == 0, result.output[-500:]
    with live_app.store.engine.connect() as c:
        row = c.execute(sa.select(t_portals).where(t_portals.c.member_id == m)).first()._mapping
    assert all(row[k].startswith(secretbox.PREFIX) for k in ("access_token", "refresh_token", "application_token"))
    with live_app.store.engine.connect() as c:
        stored_1c = c.execute(sa.select(t_kv.c.value).where(t_kv.c.member_id == m,
                                                             t_kv.c.key == connection.KV_KEY)).scalar_one()
    assert stored_1c["password"].startswith(secretbox.PREFIX)
    assert live_app.store.portals.get(m).refresh_token == values["refresh_token"]


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler", "rotate-keys"])
def test_processes_refuse_to_start_without_a_key(command):
    result = CliRunner().invoke(main, [command], env={secretbox.ENV_KEYS: None, secretbox.ENV_KEY: None})
    assert result.exit_code != 0
    assert f"{secretbox.ENV_KEYS} is not set" in result.output and "b24app keygen" in result.output


def test_keygen_prints_a_key_that_seals():
    result = CliRunner().invoke(main, ["keygen"])
    key = result.output.strip()
    Fernet(key.encode())
    assert CliRunner().invoke(main, ["keygen"]).output.strip() != key


def test_demo_makes_and_keeps_its_own_key(tmp_path, monkeypatch):
    monkeypatch.delenv(secretbox.ENV_KEYS, raising=False)
    monkeypatch.delenv(secretbox.ENV_KEY, raising=False)
    path = tmp_path / "b24app-demo.key"
    _demo_key(path)
    first = os.environ[secretbox.ENV_KEYS]
    Fernet(first.encode())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.delenv(secretbox.ENV_KEYS)
    _demo_key(path)                                   # the next run opens the same database
    assert os.environ[secretbox.ENV_KEYS] == first
