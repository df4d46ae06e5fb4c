"""Page sessions: kept server-side (only a hash of the bearer id stored), for one portal and user, with an
absolute lifetime from the verified frame; refused when unknown, tampered, missing or expired."""
from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from b24app import session as s
from b24app.store import open_store


@pytest.fixture
def store(db_url):
    st = open_store(db_url)
    yield st
    st.close()


def test_round_trip_and_refusals(store):
    now = [1_000_000.0]
    sess = s.PageSession(member_id="m" * 32, user_id=7, lang="ru", placement="LEFT_MENU", is_admin=True,
                         roles=("admin",))
    token = s.issue(store, sess, clock=lambda: now[0])
    assert s.read(store, token, clock=lambda: now[0]) == sess
    with pytest.raises(s.SessionError) as e:
        s.read(store, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), clock=lambda: now[0])
    assert e.value.status == 401 and e.value.error == "BAD_SESSION"
    with pytest.raises(s.SessionError) as e:
        s.read(store, None)
    assert e.value.error == "NO_SESSION"
    now[0] += s.MAX_AGE - 1
    assert s.read(store, token, clock=lambda: now[0]).user_id == 7      # no renewal, but still within the day
    now[0] += 2
    with pytest.raises(s.SessionError) as e:
        s.read(store, token, clock=lambda: now[0])
    assert e.value.error == "SESSION_EXPIRED"


def test_only_a_hash_of_the_bearer_id_is_stored(store):
    token = s.issue(store, s.PageSession(member_id="m" * 32, user_id=7, lang="ru"))
    with store.engine.connect() as c:
        rows = [tuple(r) for r in c.execute(sa.text("SELECT * FROM page_sessions"))]
    flat = repr(rows)
    assert token not in flat
    assert hashlib.sha256(token.encode()).hexdigest() in flat


def test_a_download_token_is_spent_once_expires_in_a_minute_and_is_gone_with_its_portal(store):
    import time

    sess = s.PageSession(member_id="m" * 32, user_id=7, lang="en", roles=("sales_manager",))
    spec = {"path": "/api/reports/jobs.csv", "args": {"period": "month"}}
    token = s.issue_download(store, sess, spec)
    got, got_spec = s.take_download(store, token)
    assert got_spec == spec
    assert (got.member_id, got.user_id, got.lang, got.roles, got.is_admin) == ("m" * 32, 7, "en", ("sales_manager",),
                                                                             False)
    for bad, error in ((token, "DOWNLOAD_USED"), ("x" * 43, "BAD_DOWNLOAD"), (None, "BAD_DOWNLOAD"),
                       (s.issue_download(store, sess, spec, clock=lambda: time.time() - s.DOWNLOAD_MAX_AGE),
                        "DOWNLOAD_EXPIRED")):
        with pytest.raises(s.SessionError) as e:
            s.take_download(store, bad)
        assert e.value.status == 401 and e.value.error == error
    with pytest.raises(s.SessionError):                       # a download token is no page session
        s.read(store, s.issue_download(store, sess, spec))
    with store.engine.connect() as c:
        assert token not in repr(list(c.execute(sa.text("SELECT * FROM downloads"))))
    store.portals.forget("m" * 32)
    with store.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM downloads")).scalar() == 0
