"""A repeated 1C push is pulled again once the document changed (issue 6 audit, gap 1), while an
immediate re-send of the same message stays a duplicate. Over HTTP: the push endpoint, the inbox worker,
the 1C sandbox and the portal sandbox."""
from __future__ import annotations

import pytest

from sync_1c import connection
from sync_1c.jobs import PENDING_PREFIX
from tests.install.conftest import app_env  # noqa: F401 - fixture
from tests.sync_1c.test_sync_flow import env, onec, recent  # noqa: F401 - fixtures
from tests.sync_1c.test_sync_gate_push import _drain, _worker


@pytest.fixture
def http(env):
    from b24app.app import create_app

    return create_app(env.services.settings, store=env.services.store).test_client()


def _pushes(env):
    """Status of every queued 1C push of this portal (other inbox kinds — deal events — left out)."""
    import sqlalchemy as sa

    from b24app.store.tables import inbox as t_inbox

    with env.services.store.engine.connect() as c:
        rows = c.execute(sa.select(t_inbox.c.status).where(t_inbox.c.member_id == env.member_id,
                                                           t_inbox.c.kind == "sync_1c").order_by(t_inbox.c.id))
        return [r[0] for r in rows]


def _push(env, http, body):
    secret = connection.push_secret(env.services.store.kv, env.member_id)
    r = http.post(f"/api/1c/push/{env.member_id}", json=body, headers={"X-B24App-1C-Secret": secret})
    assert r.status_code == 202, r.get_data(as_text=True)
    return r.json["duplicate"]


def test_same_refs_pushed_after_an_unpost_are_pulled_again(env, http):
    order = env.ib.add_order(1000, recent(5), number="ТД00-002001")
    deal = env.deal("ТД00-002001", 1000)
    ref = env.ib.add_payment([(order, 1000)], recent(2))
    assert _push(env, http, {"refs": [ref]}) is False
    assert _push(env, http, {"refs": [ref]}) is True               # 1C re-sends at once: one pull
    assert _pushes(env) == ["pending"]
    worker = _worker(env.services)
    _drain(worker)
    assert env.paid(deal) == (1000.0, "Y")
    env.ib.unpost(ref)                                             # the accountant un-posts it
    assert _push(env, http, {"refs": [ref]}) is False              # the same body, a new notification
    _drain(worker)
    assert env.paid(deal) == (0.0, "N")
    assert [c["COMMENT"] for c in env.comments(deal)][-1].endswith("проведение отменено")
    assert _pushes(env) == ["done", "done"]
    assert not [k for k in env.services.store.kv.items(env.member_id) if k.startswith(PENDING_PREFIX)]


def test_data_version_and_message_id_make_the_key(env, http):
    order = env.ib.add_order(500, recent(5), number="ТД00-002002")
    deal = env.deal("ТД00-002002", 500)
    ref = env.ib.add_payment([(order, 500)], recent(2))
    version = env.ib.find(ref)[1]["DataVersion"]
    body = {"Ref_Key": ref, "DataVersion": version}               # the 1C event-subscription contract
    assert _push(env, http, body) is False and _push(env, http, body) is True
    worker = _worker(env.services)
    _drain(worker)
    assert env.paid(deal) == (500.0, "Y")
    env.ib.mark_deleted(ref)
    new_version = env.ib.find(ref)[1]["DataVersion"]
    assert new_version != version
    assert _push(env, http, {"refs": [{"Ref_Key": ref, "DataVersion": new_version}]}) is False
    _drain(worker)
    assert env.paid(deal) == (0.0, "N")
    # a message id: the same id is the same message (a re-send), a new notification has a new id
    assert _push(env, http, {"refs": [ref], "id": "msg-1"}) is False
    assert _push(env, http, {"refs": [ref], "id": "msg-1"}) is True
    assert _push(env, http, {"refs": [ref], "id": "msg-2"}) is False


def test_a_stale_marker_never_blocks_a_push(env):
    from sync_1c.jobs import PENDING_TTL, accept_push

    store = env.services.store
    assert accept_push(store, env.member_id, {"refs": ["a"]}, now=1000.0) is True
    assert accept_push(store, env.member_id, {"refs": ["a"]}, now=1000.0 + PENDING_TTL / 2) is False
    assert accept_push(store, env.member_id, {"refs": ["a"]}, now=1000.0 + PENDING_TTL + 1) is True
    assert _pushes(env) == ["pending", "pending"]
