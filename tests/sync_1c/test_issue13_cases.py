"""Issue 13: the deal shows what 1C says whatever happened to the money — the five cases of the issue,
end to end over HTTP (1C sandbox as the reference describes a publication → our sync → sandbox portal), on
the УТ 11.5 and УТ 11.4 profiles and, where the profile has the documents, БП 3.0 and УНФ."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from b24app import session as page_sessions
from install.apply import install
from sync_1c import connection, gate, sync
from b24sandbox.onec import start
from tests import pagesession
from tests.install.conftest import app_env  # noqa: F401 - fixture
from tests.sync_1c.test_sync_flow import Env

ALL = ["ut11_5", "ut11_4", "bp3_0", "unf"]
REGISTER = ["ut11_5", "ut11_4"]               # profiles with InformationRegister_СостоянияЗаказовКлиентов


def ago(days=0, hours=1):
    return (datetime.now() - timedelta(days=days, hours=hours)).replace(microsecond=0)


@pytest.fixture(params=ALL)
def flavor(request):
    return request.param


@pytest.fixture
def env(app_env, portal, flavor):
    sb = start(flavor=flavor)
    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    connection.save(app_env.store.kv, portal.member_id, base_url=sb.url, username=sb.username,
                    password=sb.password, profile=flavor, retries=1, backoff=0, timeout=5)
    sync._checked.clear()
    sync._readers.clear()
    e = Env(app_env, portal, sb)
    e.prefix = sb.infobase.fl.prefix
    yield e
    sb.shutdown()


def only(*flavors):
    def check(flavor):
        if flavor not in flavors:
            pytest.skip(f"{flavor}: the profile has no such documents/register")
    return check


def won(env, deal):
    p = env.ids.pipeline("installation")
    env.client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": p.stage("won")}})
    return gate.enforce(env.services, env.member_id, deal)


def reconcile_due(env):
    env.services.store.kv.set(env.member_id, sync.RECONCILED_KEY,
                              (datetime.now().astimezone() - timedelta(days=2)).isoformat())


def reasons(env):
    return sorted(r["reason"] for r in env.ledger.review())


# --- 1. money older than the look-back window ------------------------------------------------------------
def test_case1_go_live_counts_money_older_than_the_window(env):
    order = env.ib.add_order(10000, ago(45), number=f"{env.prefix}000123")
    deal = env.deal(f"{env.prefix}000123", 10000, stage="job_done")
    env.ib.add_payment([(order, 6000)], ago(40))
    env.ib.add_payment([(order, 4000)], ago(0))
    env.sync()                                                    # the first sync = go-live
    assert env.paid(deal) == (10000.0, "Y")
    assert won(env, deal)["action"] == "none"
    mark = env.mark()
    env.sync()
    assert env.paid(deal) == (10000.0, "Y") and env.writes(mark) == []      # no flip-flop, nothing written


def test_case1_refund_today_of_a_payment_sixty_days_ago(env):
    order = env.ib.add_order(10000, ago(65), number=f"{env.prefix}000124")
    deal = env.deal(f"{env.prefix}000124", 10000)
    env.ib.add_payment([(order, 10000)], ago(60))
    env.ib.add_payment([(order, 2000)], ago(0), kind="refund")
    env.sync()
    assert env.paid(deal) == (8000.0, "N")
    env.sync()
    assert env.paid(deal) == (8000.0, "N")


def test_case1_back_dated_document_after_go_live(env):
    only(*REGISTER)(env.ib.flavor)
    order = env.ib.add_order(10000, ago(70), number=f"{env.prefix}000125")
    deal = env.deal(f"{env.prefix}000125", 10000, stage="job_done")
    env.ib.add_payment([(order, 4000)], ago(1))
    env.sync()
    assert env.paid(deal) == (4000.0, "N")
    env.ib.add_payment([(order, 6000)], ago(50))                  # entered today, dated 50 days ago
    env.sync()                                                    # outside the window: not seen yet
    assert won(env, deal)["action"] == "none"                     # the gate asks 1C's register first
    reconcile_due(env)
    env.sync()                                                    # the periodic reconciliation
    assert env.paid(deal) == (10000.0, "Y")


# --- 2. money leaving an order ---------------------------------------------------------------------------
def _leave(env, how, pay, a, b):
    ib = env.ib
    if how == "moved":
        ib.reallocate(pay, [(b, 5000)])
    elif how == "split":
        ib.reallocate(pay, [(a, 3000), (b, 2000)])
    elif how == "advance":
        ib.reallocate(pay, [(None, 5000)])
    elif how == "unposted_old":
        ib.unpost(pay)
    elif how == "deleted_old":
        ib.delete(pay)
    elif how == "storno":
        ib.storno(pay, ago(0))
    elif how == "refund":
        ib.add_payment([(a, 5000)], ago(0), kind="refund")


LEAVES = {"moved": (0, 5000), "split": (3000, 2000), "advance": (0, 0), "unposted_old": (0, 0),
          "deleted_old": (0, 0), "storno": (0, 0), "refund": (0, 0)}


@pytest.mark.parametrize("how", list(LEAVES))
def test_case2_money_leaving_an_order_is_recomputed(env, how):
    if how == "storno":
        only(*REGISTER)(env.ib.flavor)
    old = how.endswith("_old")
    a = env.ib.add_order(5000, ago(90 if old else 5), number=f"{env.prefix}000201")
    b = env.ib.add_order(5000, ago(90 if old else 5), number=f"{env.prefix}000202")
    da, db = env.deal(f"{env.prefix}000201", 5000), env.deal(f"{env.prefix}000202", 5000)
    pay = env.ib.add_payment([(a, 5000)], ago(60 if old else 2))
    env.sync()
    assert env.paid(da) == (5000.0, "Y")
    _leave(env, how, pay, a, b)
    if old:
        reconcile_due(env)
    env.sync()
    env.sync()
    want_a, want_b = LEAVES[how]
    assert env.paid(da)[0] == want_a and env.paid(db)[0] == want_b
    assert env.paid(da)[1] == ("Y" if want_a >= 5000 else "N")
    if how == "advance":
        assert "unallocated" in reasons(env)
    if how == "storno":
        assert any(c["COMMENT"].startswith("1С: Сторно (оплата) 5000.00") for c in env.comments(da))


# --- 3. row-level security -------------------------------------------------------------------------------
def test_case3_a_restricted_document_hides_itself_and_nothing_else(env, http):
    mine = env.ib.add_order(1000, ago(5), number=f"{env.prefix}000301")
    theirs = env.ib.add_order(1000, ago(5), number=f"{env.prefix}000302")
    deal = env.deal(f"{env.prefix}000301", 1000)
    env.ib.add_payment([(mine, 1000)], ago(2))
    secret = env.ib.add_payment([(theirs, 700)], ago(2))
    env.onec.restrict(secret)
    r = env.sync()
    assert env.paid(deal) == (1000.0, "Y") and r.hidden == 1
    assert "$allowedOnly=true" in env.onec.log[-1].raw_query or any(
        "$allowedOnly=true" in e.raw_query for e in env.onec.log)
    hidden = [x for x in env.ledger.review() if x["reason"] == "hidden"]
    assert len(hidden) == 1 and hidden[0]["detail"]["count"] == 1
    got = http.post("/api/1c/check", headers=_hdr(env, True)).json
    assert got["ok"] is True and got["hidden"] == 1


def test_case3_a_held_document_that_becomes_restricted_is_not_taken_as_deleted(env):
    order = env.ib.add_order(1000, ago(5), number=f"{env.prefix}000303")
    deal = env.deal(f"{env.prefix}000303", 1000)
    pay = env.ib.add_payment([(order, 1000)], ago(2))
    env.sync()
    env.onec.restrict(pay)
    env.sync()
    assert env.paid(deal) == (1000.0, "Y")
    assert env.ledger.payments()[pay].counts


# --- 4. one order, two deals -----------------------------------------------------------------------------
def _notes(env, deal):
    return [c["COMMENT"] for c in env.comments(deal) if "одна сделка" in c["COMMENT"].lower()
            or "one deal" in c["COMMENT"].lower()]


def test_case4_one_order_two_deals_neither_paid_until_an_admin_binds(env, http):
    order = env.ib.add_order(80000, ago(5), number=f"{env.prefix}000123")
    env.ib.add_payment([(order, 80000)], ago(2))
    d1 = env.deal(f"{env.prefix}000123", 80000, stage="job_done")
    d2 = env.deal(f"{env.prefix}000123", 75000, stage="job_done")
    assert won(env, d1)["action"] == "moved_back"
    assert won(env, d2)["action"] == "moved_back"
    env.sync()
    assert env.paid(d1)[1] != "Y" and env.paid(d2)[1] != "Y"
    assert [x["reason"] for x in env.ledger.review()] == ["ambiguous"]
    assert len(_notes(env, d1)) == 1 and len(_notes(env, d2)) == 1
    env.sync()
    assert len(_notes(env, d1)) == 1                              # told once
    # only an administrator binds, on the server
    body = {"order_key": order, "deal_id": d1}
    assert http.post("/api/1c/review/bind", json=body, headers=_hdr(env, False)).status_code == 403
    assert http.post("/api/1c/review/bind", json={**body, "deal_id": 999999},
                     headers=_hdr(env, True)).status_code == 400
    assert http.post("/api/1c/review/bind", json=body, headers=_hdr(env, True)).status_code == 200
    env.sync()
    assert env.paid(d1) == (80000.0, "Y") and env.paid(d2)[1] != "Y"
    assert won(env, d1)["action"] == "none"
    assert won(env, d2)["action"] == "moved_back"
    assert [x["reason"] for x in env.ledger.review()] == ["duplicate"]


def test_case4_a_second_deal_for_a_bound_order_is_never_paid(env):
    order = env.ib.add_order(80000, ago(5), number=f"{env.prefix}000124")
    env.ib.add_payment([(order, 80000)], ago(2))
    d1 = env.deal(f"{env.prefix}000124", 80000, stage="job_done")
    env.sync()
    assert env.paid(d1) == (80000.0, "Y")
    d2 = env.deal(f"{env.prefix}000124", 75000, stage="job_done")
    assert won(env, d2)["action"] == "moved_back"                 # the gate: the order is d1's
    assert env.paid(d2)[1] != "Y"
    env.sync()
    assert env.paid(d2)[1] != "Y" and env.paid(d1) == (80000.0, "Y")
    assert [x["reason"] for x in env.ledger.review()] == ["duplicate"]
    assert len(_notes(env, d1)) == 1 and len(_notes(env, d2)) == 1
    assert won(env, d1)["action"] == "none"


# --- 5. gate scope ---------------------------------------------------------------------------------------
def test_case5_all_deals_of_a_pipeline_a_deal_without_order_cannot_be_closed(env, http):
    p = env.ids.pipeline("installation")
    plain = int(env.client.call("crm.deal.add", {"fields": {
        "TITLE": "Без заказа", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("job_done"), "OPPORTUNITY": 0,
        "ASSIGNED_BY_ID": 1}}))
    env.sync()
    assert won(env, plain)["action"] == "recorded"                 # default: deals linked to a 1C order
    saved = http.post("/api/1c/settings", json={"gate": {"scope": {"installation": "all"}}},
                      headers=_hdr(env, True))
    assert saved.status_code == 200, saved.json
    assert saved.json["gate"]["scope"] == {"installation": "all"}
    assert http.get("/api/1c/settings", headers=_hdr(env, True)).json["gate"]["scope"]["installation"] == "all"
    done = won(env, plain)
    assert done["action"] == "moved_back" and done["why"] == "no_order"
    assert env.get(plain)["STAGE_ID"] == p.stage("job_done")
    msg = [n["MESSAGE"] for n in env.portal.db.notifications][-1]
    assert "номер заказа 1С" in msg
    bad = http.post("/api/1c/settings", json={"gate": {"scope": {"installation": "some"}}}, headers=_hdr(env, True))
    assert bad.status_code == 400
    # another pipeline keeps the default
    m = env.ids.pipeline("measurements")
    other = int(env.client.call("crm.deal.add", {"fields": {
        "TITLE": "Замер", "CATEGORY_ID": m.category_id, "STAGE_ID": m.stage("won"), "OPPORTUNITY": 0}}))
    assert gate.enforce(env.services, env.member_id, other)["action"] == "recorded"


def test_case5_message_in_english(env):
    p = env.ids.pipeline("installation")
    env.services.store.kv.set(env.member_id, connection.GATE_KEY,
                              {"enabled": True, "categories": None, "all_deals": False,
                               "scope": {str(p.category_id): "all"}})
    portal = env.services.store.portals.get(env.member_id)
    portal.lang = "en"
    env.services.store.portals.upsert(portal)
    plain = int(env.client.call("crm.deal.add", {"fields": {
        "TITLE": "No order", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("job_done"), "OPPORTUNITY": 100,
        "ASSIGNED_BY_ID": 1}}))
    assert won(env, plain)["action"] == "moved_back"
    assert "no 1C order number" in [n["MESSAGE"] for n in env.portal.db.notifications][-1]


def _hdr(env, admin):
    tok = pagesession.for_live(env.services, page_sessions.PageSession(env.member_id, 1, "ru", is_admin=admin))
    return {page_sessions.HEADER: tok}


@pytest.fixture
def http(env):
    from b24app.app import create_app

    return create_app(env.services.settings, store=env.services.store).test_client()


# --- the sync against the reference's publication ---------------------------------------------------------
def test_every_request_of_a_sync_fits_a_publication_behind_iis(env):
    """A go-live over many orders: every request reaches 1C (none refused by IIS' 2,048-byte limit: the
    look-ups are packed under it), asks JSON (Atom is the default), `$allowedOnly=true` on every collection,
    datetime literals without a zone (`…Z'` is 400 / code 14), and the BOM-prefixed answers decode."""
    orders = [env.ib.add_order(1000, ago(50), number=f"{env.prefix}{i:06d}") for i in range(1, 121)]
    p = env.ids.pipeline("installation")
    deals = [int(r.result) for r in env.client.batch_many([("crm.deal.add", {"fields": {
        "TITLE": str(i), "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("scheduled"), "OPPORTUNITY": 1000,
        env.f("order_1c_number"): f"{env.prefix}{i:06d}"}}) for i in range(1, 121)])]
    for i, o in enumerate(orders):
        env.ib.add_payment([(o, 400)], ago(45))
        env.ib.add_payment([(o, 600 if i % 2 else 100)], ago(1 + i % 5))
    mark = len(env.onec.log)
    env.sync()
    reqs = env.onec.log[mark:]
    assert reqs and all(e.status == 200 for e in reqs), [(e.path, e.status) for e in reqs if e.status != 200]
    longest = max(len(e.raw_query) for e in reqs)
    assert longest < 2048
    assert sum(1 for e in reqs if " or " in e.options.get("$filter", "")) >= 2     # look-ups were batched
    data = [e for e in reqs if not e.path.endswith(("$metadata", "$count"))]
    assert all(e.options.get("$format") == "json" for e in data)
    assert all(e.options.get("$allowedOnly") == "true" for e in data if "(guid" not in e.path)
    assert not any("Z'" in e.options.get("$filter", "") for e in reqs)
    assert env.onec.faults.bom
    rows = {int(r["ID"]): r for r in env.portal.db.deals if int(r["ID"]) in deals}     # the portal's own rows
    for i, d in enumerate(deals):
        flag = "Y" if str(rows[d][env.f("paid_in_full")]).upper() in ("1", "Y") else "N"
        assert (float(rows[d][env.f("amount_paid")]), flag) == ((1000.0, "Y") if i % 2 else (500.0, "N"))


def test_case4_the_next_sync_undoes_a_second_deal_paid_by_the_order(env):
    """What main left behind: both deals recorded as paid by the order, the second one shown PAID_IN_FULL.
    The next sync puts the order on the review list and takes the money off both until an admin binds."""
    order = env.ib.add_order(80000, ago(5), number=f"{env.prefix}000125")
    env.ib.add_payment([(order, 80000)], ago(2))
    d1 = env.deal(f"{env.prefix}000125", 80000)
    d2 = env.deal(f"{env.prefix}000125", 75000, **{env.f("amount_paid"): 80000, env.f("paid_in_full"): "Y"})
    for did, flag in ((d1, "N"), (d2, "Y")):
        env.ledger.save_deal(did, order_key=order, written={"amount_paid": "80000.00", "paid_in_full": flag,
                                                            "order_key": order})
    env.sync()
    assert [x["reason"] for x in env.ledger.review()] == ["ambiguous"]
    assert env.paid(d2) == (0.0, "N") and env.paid(d1)[1] != "Y"
    assert won(env, d2)["action"] == "moved_back"


def test_case4_a_deal_the_robot_paid_first_keeps_the_order(env):
    """The scoped sync (robot, gate) paid the first deal by its order; a second deal with the same number
    created later is the second deal for the periodic sync too — and the first gets the key written."""
    order = env.ib.add_order(80000, ago(5), number=f"{env.prefix}000126")
    env.ib.add_payment([(order, 80000)], ago(2))
    d1 = env.deal(f"{env.prefix}000126", 80000, stage="job_done")
    assert won(env, d1)["action"] == "none"                       # run_for_deal: the order is d1's alone
    d2 = env.deal(f"{env.prefix}000126", 75000, stage="job_done")
    env.sync()
    assert env.paid(d1) == (80000.0, "Y") and env.get(d1)[env.f("order_1c_key")] == order
    assert env.paid(d2)[1] != "Y" and [x["reason"] for x in env.ledger.review()] == ["duplicate"]
    assert won(env, d2)["action"] == "moved_back"


def test_register_and_documents_differ_logged_and_on_the_review_list(env, caplog):
    """1C's register counts a payment the OData user may not read: the deal shows 1C's total, the
    difference is logged and listed (with the hidden document) for a person to look at."""
    only(*REGISTER)(env.ib.flavor)
    order = env.ib.add_order(1000, ago(5), number=f"{env.prefix}000401")
    deal = env.deal(f"{env.prefix}000401", 1000)
    env.ib.add_payment([(order, 400)], ago(2))
    env.onec.restrict(env.ib.add_payment([(order, 600)], ago(2)))
    with caplog.at_level("WARNING", logger="b24app.sync_1c"):
        env.sync()
    assert env.paid(deal) == (1000.0, "Y")
    items = {x["reason"]: x["detail"] for x in env.ledger.review()}
    assert items["difference"]["paid_1c"] == "1000.00" and items["difference"]["paid_documents"] == "400.00"
    assert items["difference"]["deals"] == [deal] and items["hidden"]["count"] == 1
    assert any("register says 1000" in r.getMessage() for r in caplog.records)


def test_without_a_published_register_the_documents_decide(env, http):
    """A base whose OData composition lacks the order-state register: the check warns (it does not fail),
    the sync runs on the documents alone — go-live still reads the open deals' older payments."""
    only(*REGISTER)(env.ib.flavor)
    env.onec.unpublish("InformationRegister_СостоянияЗаказовКлиентов")
    order = env.ib.add_order(10000, ago(45), number=f"{env.prefix}000501")
    deal = env.deal(f"{env.prefix}000501", 10000, stage="job_done")
    env.ib.add_payment([(order, 6000)], ago(40))
    env.ib.add_payment([(order, 4000)], ago(0))
    mark = len(env.onec.log)
    env.sync()
    assert env.paid(deal) == (10000.0, "Y")
    assert won(env, deal)["action"] == "none"
    assert not any("СостоянияЗаказовКлиентов" in e.path for e in env.onec.log[mark:])
    got = http.post("/api/1c/check", headers=_hdr(env, True)).json
    assert got["ok"] is True and got["problems"] == []
    assert len(got["warnings"]) == 1 and "InformationRegister_СостоянияЗаказовКлиентов" in got["warnings"][0]
