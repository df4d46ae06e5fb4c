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
