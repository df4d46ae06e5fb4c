"""Page sessions: signed for one portal and user, refused when forged, expired or for another key."""
from __future__ import annotations

import time

import pytest

from b24app import session as s


def test_round_trip_and_refusals():
    sess = s.PageSession(member_id="m" * 32, user_id=7, lang="ru", placement="LEFT_MENU", is_admin=True)
    token = s.issue("k1", sess)
    assert s.read("k1", token) == sess
    with pytest.raises(s.SessionError) as e:
        s.read("k2", token)
    assert e.value.status == 401 and e.value.error == "BAD_SESSION"
    with pytest.raises(s.SessionError) as e:
        s.read("k1", token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert e.value.error == "BAD_SESSION"
    with pytest.raises(s.SessionError) as e:
        s.read("k1", None)
    assert e.value.error == "NO_SESSION"
    time.sleep(1.1)
    with pytest.raises(s.SessionError) as e:
        s.read("k1", token, max_age=0)
    assert e.value.error == "SESSION_EXPIRED"
