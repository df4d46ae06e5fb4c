"""The Bitrix24 side of issue 6 end to end, over HTTP on both sides: the 1C OData sandbox → our sync →
the sandbox portal. Writes are counted in ``portal.log`` (batch sub-calls included)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from install.apply import install
from install.registry import installed_ids
from sync_1c import connection, sync
from sync_1c.ledger_store import LedgerStore
from sync_1c.odata import ODataError
from b24sandbox.onec import start
from tests.install.conftest import app_env  # noqa: F401 - fixture

WRITES = ("crm.deal.update", "crm.timeline.comment.add")


@pytest.fixture
def onec():
    sb = start()
    yield sb
    sb.shutdown()


class Env:
    def __init__(self, services, portal, onec):
        self.services, self.portal, self.onec = services, portal, onec
        self.member_id = portal.member_id
        self.ids = installed_ids(services.store, portal.member_id)
        self.client = services.client(portal.member_id)
        self.ib = onec.infobase

    def f(self, key):
        return self.ids.deal_field(key)

    def deal(self, number, opportunity, pipeline="installation", stage="scheduled", **fields):
        p = self.ids.pipeline(pipeline)
        return int(self.client.call("crm.deal.add", {"fields": {
            "TITLE": f"Заказ {number}", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage(stage),
            "OPPORTUNITY": opportunity, "ASSIGNED_BY_ID": 1, self.f("order_1c_number"): number, **fields}}))

    def get(self, deal_id):
        return self.client.call("crm.deal.get", {"id": deal_id})

    def paid(self, deal_id):
        d = self.get(deal_id)
        flag = d.get(self.f("paid_in_full"))
        return float(d.get(self.f("amount_paid")) or 0), (None if flag in (None, "") else
                                                           "Y" if str(flag).upper() in ("1", "Y") else "N")

    def sync(self, **kw):
        return sync.run(self.services, self.member_id, **kw)

    def mark(self):
        return len(self.portal.log)

    def writes(self, since):
        return [r.method for r in self.portal.log[since:] if r.method in WRITES and r.status == 200]

    def comments(self, deal_id):
        return [c for c in self.portal.db.comments if int(c.get("ENTITY_ID") or 0) == deal_id]

    @property
    def ledger(self):
        return LedgerStore(self.services.store.engine, self.member_id)


def recent(days_ago=1, hour=12):
    return (datetime.now() - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def env(app_env, portal, onec):
    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    connection.save(app_env.store.kv, portal.member_id, base_url=onec.url, username=onec.username,
                    password=onec.password, retries=1, backoff=0, timeout=5)
    sync._checked.clear()
    sync._readers.clear()
    return Env(app_env, portal, onec)


def test_settings_never_show_the_password(env):
    conn = connection.load(env.services.store.kv, env.member_id)
    pub = conn.public()
    assert "password" not in pub and pub["password_set"] is True
    assert env.onec.password not in repr(conn) and env.onec.password not in str(pub)
    assert connection.check(conn) == []
    connection.save(env.services.store.kv, env.member_id, lookback_days=10)      # password kept
    assert connection.load(env.services.store.kv, env.member_id).password == env.onec.password


def test_partial_then_full_payment_cyrillic_login(env):
    assert env.onec.username == "Администратор"
    order = env.ib.add_order(1000, recent(5), number="ТД00-000101")
    deal = env.deal("тд00 101", 1000)
    env.ib.add_payment([(order, 400)], recent(3))
    r = env.sync()
    assert r.updates == 1 and r.comments == 1
    assert env.paid(deal) == (400.0, "N")
    assert env.get(deal)[env.f("order_1c_key")] == order            # bound after a unique number match
    env.ib.add_payment([(order, "600.00")], recent(2))
    env.sync()
    assert env.paid(deal) == (1000.0, "Y")
    assert len(env.comments(deal)) == 2


def test_second_sync_without_change_writes_nothing(env):
    for i in range(3):
        order = env.ib.add_order(500, recent(5), number=f"ТД00-00020{i}")
        env.deal(f"ТД00-00020{i}", 500)
        env.ib.add_payment([(order, 100 * (i + 1))], recent(2))
    first = env.mark()
    env.sync()
    assert sorted(env.writes(first)) == ["crm.deal.update"] * 3 + ["crm.timeline.comment.add"] * 3
    assert [r.method for r in env.portal.log[first:] if r.method == "batch"] == ["batch"]   # one batch
    second = env.mark()
    r = env.sync()
    assert env.writes(second) == [] and r.updates == 0 and r.comments == 0


def test_overpayment_and_refund(env):
    order = env.ib.add_order(1000, recent(5), number="ТД00-000301")
    deal = env.deal("ТД00-000301", 1000)
    env.ib.add_payment([(order, 1200)], recent(3))
    env.sync()
    assert env.paid(deal) == (1200.0, "Y")
    env.ib.add_payment([(order, 300)], recent(1), kind="refund")
    env.sync()
    assert env.paid(deal) == (900.0, "N")


def test_unposted_and_deleted_payments_take_back_their_money(env):
    order = env.ib.add_order(1000, recent(5), number="ТД00-000401")
    deal = env.deal("ТД00-000401", 1000)
    a = env.ib.add_payment([(order, 300)], recent(3))
    b = env.ib.add_payment([(order, 700)], recent(2))
    c = env.ib.add_payment([(order, 50)], recent(2))
    env.sync()
    assert env.paid(deal) == (1050.0, "Y")
    env.ib.unpost(a)
    env.ib.mark_deleted(c)
    env.sync()
    assert env.paid(deal) == (700.0, "N")
    env.ib.delete(b)                        # physically gone: re-read by key, tombstoned
    env.sync()
    assert env.paid(deal) == (0.0, "N")
    texts = [x["COMMENT"] for x in env.comments(deal)]
    assert any("проведение отменено" in t for t in texts) and any("удален" in t for t in texts)


def test_same_number_in_two_years(env):
    o25 = env.ib.add_order(100, datetime(2025, 3, 1, 10), number="ТД00-000007")
    o26 = env.ib.add_order(200, datetime(2026, 3, 1, 10), number="ТД00-000007")
    d25, d26 = env.deal("ТД00-000007", 100), env.deal("ТД00-000007", 200)
    env.portal.db.deals.get(d25)["DATE_CREATE"] = "2025-03-01T12:00:00+03:00"
    env.portal.db.deals.get(d26)["DATE_CREATE"] = "2026-03-02T12:00:00+03:00"
    env.ib.add_payment([(o25, 100)], recent(2))
    env.ib.add_payment([(o26, 50)], recent(2))
    env.sync()
    assert env.paid(d25) == (100.0, "Y") and env.paid(d26) == (50.0, "N")


def test_ambiguous_and_unmatched_go_to_review_never_guessed(env):
    o = env.ib.add_order(100, recent(5), number="ТД00-000901")
    lost = env.ib.add_order(100, recent(5), number="ТД00-000902")
    d1, d2 = env.deal("ТД00-000901", 100), env.deal("901", 100)
    env.ib.add_payment([(o, 100)], recent(2))
    env.ib.add_payment([(lost, 100)], recent(2))
    env.ib.add_payment([(None, 10)], recent(2))
    mark = env.mark()
    env.sync()
    assert env.writes(mark) == ["crm.timeline.comment.add"] * 2    # only the "one order, two deals" notes
    assert all("Одна сделка — один заказ" in c["COMMENT"] for d in (d1, d2) for c in env.comments(d))
    reasons = sorted(r["reason"] for r in env.ledger.review())
    assert reasons == ["ambiguous", "unallocated", "unmatched"]
    assert env.paid(d1) == (0.0, None) or env.paid(d1)[0] == 0.0
    # a person clears the duplicate number: the next sync binds and writes
    env.client.call("crm.deal.update", {"id": d2, "fields": {env.f("order_1c_number"): ""}})
    env.sync()
    assert env.paid(d1) == (100.0, "Y")
    assert sorted(r["reason"] for r in env.ledger.review()) == ["unallocated", "unmatched"]


def test_1c_down_mid_sync_loses_and_doubles_nothing(env):
    orders = [env.ib.add_order(100, recent(5), number=f"ТД00-0005{i:02d}") for i in range(3)]
    deals = [env.deal(f"ТД00-0005{i:02d}", 100) for i in range(3)]
    for o in orders:
        env.ib.add_payment([(o, 100)], recent(2))
    env.onec.faults.down = True
    mark = env.mark()
    with pytest.raises(sync.SyncProblem):
        env.sync()
    assert env.writes(mark) == [] and env.ledger.cursor()["window_end"] is None
    assert env.ledger.cursor()["last_error"]
    env.onec.faults.down = False
    env.sync()
    env.sync()
    for d in deals:
        assert env.paid(d) == (100.0, "Y") and len(env.comments(d)) == 1


def test_portal_503_storm_during_batched_writes(env):
    """A storm that starts once the first batch of writes is executing: the next batches are refused
    with 503 (nothing executed, reference §7.3) and retried; no write is lost or doubled."""
    p = env.ids.pipeline("installation")
    orders = [env.ib.add_order(1000, recent(5), number=f"ТД00-0006{i:02d}") for i in range(40)]
    deals = [int(x.result) for x in env.client.batch_many([("crm.deal.add", {"fields": {
        "TITLE": str(i), "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("scheduled"), "OPPORTUNITY": 1000,
        env.f("order_1c_number"): f"ТД00-0006{i:02d}"}}) for i in range(40)])]
    for i, o in enumerate(orders):
        env.ib.add_payment([(o, 600)], recent(3))
        env.ib.add_payment([(o, 400 if i % 2 else 100)], recent(2))
    mark = env.mark()
    storm = 6
    env.portal.faults.storm_after(lambda rec: rec.via == "batch" and rec.method in WRITES, storm)
    r = env.sync()
    log = env.portal.log[mark:]
    first_write = next(i for i, rec in enumerate(log) if rec.via == "batch" and rec.method in WRITES)
    refused = [rec for rec in log[first_write:] if rec.status == 503]
    assert len(refused) == storm and all(rec.method == "batch" for rec in refused)   # the batches got the 503s
    assert len([rec for rec in log if rec.method == "batch" and rec.via == "http" and rec.status == 200]) >= 3
    assert r.updates == 40 and r.comments == 80
    rows = {int(x["ID"]): x for x in env.portal.db.deals if int(x["ID"]) in deals}   # the portal's own rows
    for i, d in enumerate(deals):
        want = ("1000.00", "Y") if i % 2 else ("700.00", "N")
        flag = "Y" if str(rows[d][env.f("paid_in_full")]).upper() in ("1", "Y") else "N"
        assert (f"{float(rows[d][env.f('amount_paid')]):.2f}", flag) == want
        assert len(env.comments(d)) == 2                                  # one per payment, no doubles
    assert sorted(env.writes(mark)) == ["crm.deal.update"] * 40 + ["crm.timeline.comment.add"] * 80
    again = env.mark()
    env.sync()
    assert env.writes(again) == []


def test_auto_forward_when_fully_paid(env):
    p = env.ids.pipeline("installation")
    kv = env.services.store.kv
    waiting, done = p.stage("scheduled"), p.stage(list(p.stages)[-3])
    kv.set(env.member_id, connection.AUTO_FORWARD_KEY, {str(p.category_id): {waiting: done}})
    order = env.ib.add_order(800, recent(5), number="ТД00-000701")
    deal = env.deal("ТД00-000701", 800)
    env.ib.add_payment([(order, 500)], recent(2))
    env.sync()
    assert env.get(deal)["STAGE_ID"] == waiting
    env.ib.add_payment([(order, 300)], recent(1))
    env.sync()
    assert env.get(deal)["STAGE_ID"] == done


def test_1c_fails_after_the_first_page_then_retry_completes(env, monkeypatch):
    from sync_1c.reader import PaymentReader

    orders = [env.ib.add_order(100, recent(5), number=f"ТД00-0011{i:02d}") for i in range(4)]
    deals = [env.deal(f"ТД00-0011{i:02d}", 100) for i in range(4)]
    for o in orders:
        env.ib.add_payment([(o, 60)], recent(3))
    env.sync()                                            # the ledger holds 4 payments of 60
    for o in orders:
        env.ib.add_payment([(o, 40)], recent(2))
    late = env.ib.add_order(100, recent(4), number="ТД00-001199")   # an order the reader has not seen yet
    late_deal = env.deal("ТД00-001199", 100)
    env.ib.add_payment([(late, 100)], recent(2))
    original = PaymentReader._resolve_settlement_objects

    def go_down(self, rows):                              # the payment page was read, the lookups fail
        env.onec.faults.down = True
        return original(self, rows)

    monkeypatch.setattr(PaymentReader, "_resolve_settlement_objects", go_down)
    mark, cursor = env.mark(), env.ledger.cursor()["window_end"]
    with pytest.raises(ODataError):
        env.sync()
    assert env.writes(mark) == [] and env.ledger.cursor()["window_end"] == cursor
    monkeypatch.setattr(PaymentReader, "_resolve_settlement_objects", original)
    env.onec.faults.down = False
    env.sync()
    for d in deals:
        assert env.paid(d) == (100.0, "Y") and len(env.comments(d)) == 2
    assert env.paid(late_deal) == (100.0, "Y") and len(env.comments(late_deal)) == 1


def test_portal_fails_between_batches_retry_doubles_nothing(env, monkeypatch):
    from b24app.errors import B24Error
    from b24app.portal import PortalClient

    p = env.ids.pipeline("installation")
    adds = []
    for i in range(30):
        o = env.ib.add_order(100, recent(5), number=f"ТД00-0012{i:02d}")
        env.ib.add_payment([(o, 100)], recent(2))
        adds.append(("crm.deal.add", {"fields": {"TITLE": str(i), "CATEGORY_ID": p.category_id, "OPPORTUNITY": 100,
                                                  env.f("order_1c_number"): f"ТД00-0012{i:02d}"}}))
    deals = [int(r.result) for r in env.client.batch_many(adds)]
    original, calls = PortalClient.batch_many, []

    def flaky(self, commands, halt=False):
        calls.append(len(commands))
        if len(calls) == 2:
            raise B24Error("QUERY_LIMIT_EXCEEDED", "the portal gave up", 503)
        return original(self, commands, halt=halt)

    monkeypatch.setattr(PortalClient, "batch_many", flaky)
    with pytest.raises(B24Error):
        env.sync()
    assert env.ledger.cursor()["window_end"] is None                 # not committed
    monkeypatch.setattr(PortalClient, "batch_many", original)
    env.sync()
    rows = {int(r["ID"]): r for r in env.portal.db.deals if int(r["ID"]) in deals}
    assert all(float(rows[d][env.f("amount_paid")]) == 100.0 for d in deals)
    assert all(len(env.comments(d)) == 1 for d in deals)
    mark = env.mark()
    env.sync()
    assert env.writes(mark) == []


def test_weekly_reread_catches_old_documents(env):
    kv = env.services.store.kv
    connection.save(kv, env.member_id, lookback_days=100)
    order = env.ib.add_order(500, recent(70), number="ТД00-001301")
    deal = env.deal("ТД00-001301", 500)
    old = env.ib.add_payment([(order, 500)], recent(60))
    env.sync()
    assert env.paid(deal) == (500.0, "Y")
    connection.save(kv, env.member_id, lookback_days=10)
    env.ib.unpost(old)                                   # far outside the window now
    env.sync()
    assert env.paid(deal) == (500.0, "Y")                # not seen until the periodic re-read is due
    kv.set(env.member_id, connection.REREAD_KEY, (datetime.now().astimezone() - timedelta(days=8)).isoformat())
    env.sync()
    assert env.paid(deal) == (0.0, "N")


@pytest.mark.parametrize("ctype,body", [
    ("text/plain; charset=utf-8", "Service is being updated"),
    ("application/xml", '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>'),
    ("application/json", '{"value": [{"Ref_Key": "'),
], ids=["text", "xml", "broken-json"])
def test_non_json_answer_mid_sync_writes_nothing(env, ctype, body):
    from sync_1c.odata import ODataBadResponse

    order = env.ib.add_order(1000, recent(5), number="ТД00-001401")
    deal = env.deal("ТД00-001401", 1000)
    env.ib.add_payment([(order, 1000)], recent(2))
    env.onec.faults.body = (ctype, body)
    mark = env.mark()
    with pytest.raises(ODataBadResponse) as err:
        env.sync()
    assert "not JSON" in str(err.value) or "XML" in str(err.value)
    assert env.writes(mark) == [] and env.ledger.payments() == {}
    cur = env.ledger.cursor()
    assert cur["window_end"] is None and "1C OData error not-json" in cur["last_error"]
    env.onec.faults.body = None
    env.sync()
    assert env.paid(deal) == (1000.0, "Y") and len(env.comments(deal)) == 1
