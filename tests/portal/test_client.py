"""PortalClient against the sandbox portal: tokens, limits, faults, batch and huge lists — counted
on the sandbox side (its OAuth server's refresh count, its request log, its tables)."""
from __future__ import annotations

import threading

import pytest

from b24app.errors import B24Error, B24TransportError, NeedsReinstall, PortalNotInstalled
from b24app.portal import command, is_read
from b24app.services import Services
from b24app.throttle import LeakyBucket


def http_records(portal, method=None):
    return [r for r in portal.log if r.via == "http" and (method is None or r.method == method)]


def deals(portal) -> list[dict]:
    return list(portal.db.deals)


def seed_deals(portal, n: int) -> None:
    try:
        from b24sandbox.demo import seed_deals as seed   # H2's helper, when it exists
        seed(portal.db, n)
        return
    except ImportError:
        pass
    from b24sandbox.crmcore import create
    from b24sandbox.registry import CallContext

    ctx = CallContext(portal=portal, auth_kind="webhook", user_id=1, is_admin=True, client_id=None,
                      scope=frozenset())
    for i in range(n):
        create(ctx, 2, {"TITLE": f"Deal {i + 1}"}, item_api=False)


# --- tokens ---------------------------------------------------------------------------------------
def test_expired_token_is_refreshed_once_and_the_call_retried(env):
    c = env.client()
    c.call("crm.deal.add", {"fields": {"TITLE": "before"}})
    v0 = env.store.portals.get(env.member_id).token_version
    env.cloud.clock.advance(3601)
    assert c.call("crm.deal.get", {"id": 1})["TITLE"] == "before"
    assert env.cloud.refresh_count(env.member_id) == 1
    assert [(r.status, r.error) for r in http_records(env.portal)][-2:] == [(401, "expired_token"), (200, None)]
    assert env.store.portals.get(env.member_id).token_version == v0 + 1
    c.call("crm.deal.list", {})
    assert env.cloud.refresh_count(env.member_id) == 1                        # no timer refreshes


def test_four_workers_on_an_expired_token_cause_exactly_one_refresh(env_any):
    env = env_any
    clients = [env.client(own_store=True) for _ in range(4)]
    env.cloud.clock.advance(3601)
    barrier, results, errors = threading.Barrier(4), [], []

    def worker(c):
        barrier.wait()
        try:
            results.append(c.call("crm.deal.list", {"select": ["ID"]}))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert not errors and len(results) == 4
    assert env.cloud.refresh_count(env.member_id) == 1
    assert env.store.portals.get(env.member_id).status == "installed"


def test_invalid_grant_marks_the_portal_needs_reinstall(env, caplog):
    c = env.client()
    p = env.store.portals.get(env.member_id)
    env.store.portals.save_tokens(env.member_id, p.token_version, p.access_token, "spent-or-revoked", p.expires_at)
    env.cloud.clock.advance(3601)
    with pytest.raises(NeedsReinstall):
        c.call("crm.deal.list", {})
    assert env.store.portals.get(env.member_id).status == "needs_reinstall"
    assert "needs_reinstall" in caplog.text
    with pytest.raises(NeedsReinstall):
        Services(env.settings, env.store).client(env.member_id)


def test_other_401s_raise_without_refresh(env):
    c = env.client()
    env.portal.revoke_tokens(env.settings.client_id)
    with pytest.raises(B24Error) as e:
        c.call("crm.deal.list", {})
    assert (e.value.code, e.value.status) == ("invalid_token", 401)
    assert env.cloud.refresh_count(env.member_id) == 0


def test_services_client_for_unknown_portal(env):
    with pytest.raises(PortalNotInstalled):
        Services(env.settings, env.store).client("no-such-member")


# --- limits and faults ----------------------------------------------------------------------------
def test_503_storm_ends_with_every_write_applied_exactly_once(env):
    env.portal.faults.storm(9)
    clients = [env.client() for _ in range(3)]

    def writer(k, c):
        for i in range(10):
            c.call("crm.deal.add", {"fields": {"TITLE": f"w{k}-{i}"}})

    threads = [threading.Thread(target=writer, args=(k, c)) for k, c in enumerate(clients)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    titles = sorted(d["TITLE"] for d in deals(env.portal))
    assert titles == sorted(f"w{k}-{i}" for k in range(3) for i in range(10))
    assert sum(1 for r in http_records(env.portal) if r.error == "QUERY_LIMIT_EXCEEDED") == 9
    assert sum(c.http_calls for c in clients) == 39


def test_dropped_connection_retries_reads_but_not_writes(env):
    c = env.client()
    env.portal.faults.drop_connection(1)
    with pytest.raises(B24TransportError):
        c.call("crm.deal.add", {"fields": {"TITLE": "maybe"}})
    assert [d["TITLE"] for d in deals(env.portal)] == ["maybe"]          # it ran; we just never heard
    env.portal.faults.drop_connection(1)
    before = c.http_calls
    assert [d["TITLE"] for d in c.call("crm.deal.list", {"select": ["TITLE"]})] == ["maybe"]
    assert c.http_calls - before == 2


def test_operation_time_limit_backs_off_then_gives_up(env):
    c = env.client(max_tries=3)
    env.portal.faults.method_cost["crm.deal.list"] = 1000.0
    c.call("crm.deal.list", {})
    with pytest.raises(B24Error) as e:
        c.call("crm.deal.list", {})
    assert (e.value.code, e.value.status) == ("OPERATION_TIME_LIMIT", 429)
    assert c.http_calls == 1 + 3
    c.call("crm.deal.fields", {})                        # other methods are unaffected


def test_error_envelope_keeps_code_and_status(env):
    c = env.client()
    with pytest.raises(B24Error) as e:
        c.call("crm.deal.get", {"id": 999})
    assert (e.value.code, e.value.description, e.value.status) == ("", "Not found", 400)
    with pytest.raises(B24Error) as e:
        c.call("no.such.method", {})
    assert (e.value.code, e.value.status) == ("ERROR_METHOD_NOT_FOUND", 404)


# --- batch ----------------------------------------------------------------------------------------
def test_120_commands_go_out_as_3_batches(env):
    c = env.client()
    out = c.batch_many([("crm.deal.add", {"fields": {"TITLE": f"d{i}", "OPPORTUNITY": i}}) for i in range(120)])
    assert all(r.ok for r in out) and [r.result for r in out] == list(range(1, 121))
    assert len(http_records(env.portal)) == 3 == c.http_calls
    assert {r.method for r in http_records(env.portal)} == {"batch"}
    assert len(deals(env.portal)) == 120


def test_batch_per_command_errors_and_halt(env):
    c = env.client()
    br = c.batch({"a": ("crm.deal.add", {"fields": {"TITLE": "A & B = C ы"}}),
                  "b": ("crm.deal.get", {"id": "$result[a]"}),
                  "bad": ("crm.deal.get", {"id": 999})})
    assert br.result["b"]["TITLE"] == "A & B = C ы"
    assert set(br.errors) == {"bad"} and br.errors["bad"].description == "Not found"

    calls = [("crm.deal.add", {"fields": {"TITLE": "x1"}}), ("crm.deal.get", {"id": 999}),
             ("crm.deal.add", {"fields": {"TITLE": "x2"}})]
    soft = c.batch_many(calls)
    assert [r.ok for r in soft] == [True, False, True]
    n = len(deals(env.portal))
    hard = c.batch_many(calls + [("crm.deal.add", {"fields": {"TITLE": "x"}})] * 60, halt=True)
    assert [r.ok for r in hard[:3]] == [True, False, False]
    assert hard[2].error.code == "BATCH_HALTED" and all(r.error.code == "BATCH_HALTED" for r in hard[3:])
    assert len(deals(env.portal)) == n + 1                 # only the command before the failure ran
    assert len(hard) == 63


# --- huge lists -----------------------------------------------------------------------------------
def test_list_all_10000_deals_in_order_in_5_calls(env):
    env.portal.settings.rate_limit = True
    seed_deals(env.portal, 10_000)
    c = env.client()
    ids = [int(d["ID"]) for d in c.list_all("crm.deal.list", {"select": ["ID", "TITLE"]})]
    assert ids == sorted(set(ids)) and len(ids) == 10_000
    assert c.http_calls == 5                               # ⌈10000/2500⌉ + 1
    first = http_records(env.portal)[0].params
    assert first["start"] in (-1, "-1") and first["order"] == {"ID": "ASC"}


def test_list_all_items_shape_and_user_filter(env):
    seed_deals(env.portal, 130)
    c = env.client()
    ids = [it["id"] for it in c.list_all("crm.item.list", {"entityTypeId": 2, "select": ["id", "title"]})]
    assert ids == list(range(1, 131))
    assert c.http_calls == 2
    got = [int(d["ID"]) for d in c.list_all("crm.deal.list", {"filter": {">ID": 100}, "select": ["ID"]})]
    assert got == list(range(101, 131))


# --- units ----------------------------------------------------------------------------------------
def test_command_encoding_is_php_style():
    q = command("crm.deal.list", {"select": ["ID", "TITLE"], "filter": {">ID": 5, "TITLE": "a&b=c ы"},
                                  "flag": True, "skip": None, "empty": []})
    assert q == ("crm.deal.list?select%5B0%5D=ID&select%5B1%5D=TITLE&filter%5B%3EID%5D=5"
                 "&filter%5BTITLE%5D=a%26b%3Dc%20%D1%8B&flag=1")
    assert command("server.time", {}) == "server.time"


def test_is_read():
    assert is_read("crm.deal.list") and is_read("crm.item.get") and is_read("crm.deal.fields")
    assert not is_read("crm.deal.add") and not is_read("crm.deal.update")


def test_leaky_bucket_bursts_then_drains():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    b = LeakyBucket(burst=5, drain=2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        assert b.acquire() == 0
    assert b.acquire() == pytest.approx(0.5)
    b.penalize()
    assert b.acquire() == pytest.approx(0.5)
    assert slept == [pytest.approx(0.5)] * 2
