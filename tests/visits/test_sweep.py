"""Kanban rules with the portal's FakeClock: each fires at its moment and once; a human change made after
the sweep read an item is never overwritten; 5,000 visits are swept in batches (HTTP calls counted)."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest

from visits import rules
from visits.create import create_visit
from visits.ledger import VisitsLedger
from visits.sweep import STATE_KEY, sweep


def _at(visits, days: float, hour: int = 11):
    d = (visits.now() + timedelta(days=days)).astimezone(rules.RuleSettings().zone)
    return d.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def test_each_rule_fires_at_its_moment_and_once(visits):
    visits.live.store.kv.set(visits.member_id, rules.KV_WORK_DAYS, rules.OFF)   # about other rules: drafts wait
    company = visits.company(0)
    svc, mid = visits.services, visits.member_id
    a = create_visit(svc, mid, company["ID"], _at(visits, 5), "repeat", stage="repeat_visit")["id"]
    b = create_visit(svc, mid, company["ID"], _at(visits, 1))["id"]
    c = create_visit(svc, mid, company["ID"], _at(visits, 1))["id"]
    visits.client.call("crm.item.update", {"entityTypeId": visits.v.entity_type_id, "id": c,
                                           "fields": {visits.v.field("result"): "Договорились о поставке"}})
    assert visits.item(a)["assignedById"] == int(company["ASSIGNED_BY_ID"])       # the company's manager

    st = sweep(svc, mid, visits.now())
    assert st.moved == 0 and visits.stage_key(a) == "repeat_visit"

    visits.advance(days=1)                        # a: 4 days away — still waiting
    assert sweep(svc, mid, visits.now()).moved == 0
    visits.advance(days=1)                        # b's day (yesterday) is over without a result → Overdue
    st = sweep(svc, mid, visits.now())
    assert st.moves == [(b, rules.OVERDUE)]       # c has a result → left alone; a is 3 days + 8 h away
    assert visits.stage_key(c) == "draft" and "просрочено" in visits.comments(b)[0]
    visits.advance(hours=7, days=0)
    assert sweep(svc, mid, visits.now()).moved == 0
    visits.advance(hours=1)                       # a: exactly 3 days before its date → In work
    st = sweep(svc, mid, visits.now())
    assert st.moves == [(a, rules.REPEAT)]
    assert visits.stage_key(a) == "in_work"
    assert len(visits.comments(a)) == 1 and "повторный визит" in visits.comments(a)[0]
    assert sweep(svc, mid, visits.now()).moved == 0       # once

    # a person moves a back to Repeat with the same date: the rule already fired for that date
    visits.client.call("crm.item.update", {"entityTypeId": visits.v.entity_type_id, "id": a,
                                           "fields": {"stageId": visits.v.stage("repeat_visit")}})
    visits.advance(hours=1)
    st = sweep(svc, mid, visits.now())
    assert st.moved == 0 and st.skipped_fired == 1 and visits.stage_key(a) == "repeat_visit"

    visits.advance(days=4, hours=14)              # b: 4 days 22 h in Overdue — not yet
    st = sweep(svc, mid, visits.now())
    assert st.moves == [(a, rules.OVERDUE)]       # a's day is over (repeat stage, no result)
    visits.advance(hours=3)
    st = sweep(svc, mid, visits.now())
    assert (b, rules.FAILED) in st.moves and visits.stage_key(b) == "failed"
    assert len(visits.comments(b)) == 2 and "не состоялся" in visits.comments(b)[1]
    assert sweep(svc, mid, visits.now()).moved == 0
    assert [h["rule"] for h in VisitsLedger(visits.live.store.engine, mid).history(b)] == [rules.OVERDUE, rules.FAILED]
    # the portal reports the moves; the calendar job frees the failed visit's slot, keeps the others
    visits.run_events()
    events = {int(e["CRM_FIELDS"][0].rsplit("_", 1)[1]) for e in visits.portal.db.calendar_events.rows.values()}
    assert events == {a, c}


def test_settings_per_portal_and_english_reasons(visits):
    svc, mid = visits.services, visits.member_id
    visits.live.store.kv.set(mid, rules.KV_REPEAT_DAYS, 1)
    p = visits.live.store.portals.get(mid)
    p.lang = "en"
    visits.live.store.portals.upsert(p)
    a = create_visit(svc, mid, visits.company(1)["ID"], _at(visits, 2), "repeat", stage="repeat_visit")["id"]
    assert sweep(svc, mid, visits.now()).moved == 0
    visits.advance(days=1, hours=7)               # 1 day and 1 h before (the clock starts at 03:00 MSK)
    assert sweep(svc, mid, visits.now()).moved == 0
    visits.advance(hours=1)
    assert sweep(svc, mid, visits.now()).moves == [(a, rules.REPEAT)]
    assert "1 day(s) away" in visits.comments(a)[0]


def test_a_human_change_after_the_read_is_not_overwritten(visits, monkeypatch):
    import visits.sweep as sweep_mod

    svc, mid, v = visits.services, visits.member_id, visits.v
    a = create_visit(svc, mid, visits.company(2)["ID"], _at(visits, -2))["id"]        # overdue now
    b = create_visit(svc, mid, visits.company(3)["ID"], _at(visits, -2))["id"]        # overdue now
    c = create_visit(svc, mid, visits.company(4)["ID"], _at(visits, -2))["id"]        # overdue now
    real = sweep_mod._recheck

    def person_edits_between_read_and_write(client, etid, moves):
        assert {m.item_id for m in moves} == {a, b, c}
        visits.advance(hours=0.01)
        # a: the manager enters the result in the portal (updatedTime moves, the stage does not)
        client.call("crm.item.update", {"entityTypeId": etid, "id": a, "fields": {v.field("result"): "Был"}})
        # b: the manager moves it to done
        client.call("crm.item.update", {"entityTypeId": etid, "id": b, "fields": {"stageId": v.stage("done")}})
        return real(client, etid, moves)

    monkeypatch.setattr(sweep_mod, "_recheck", person_edits_between_read_and_write)
    st = sweep(svc, mid, visits.now())
    assert st.moves == [(c, rules.OVERDUE)] and st.skipped_changed == 2
    assert visits.stage_key(a) == "draft" and visits.stage_key(b) == "done" and visits.stage_key(c) == "overdue"
    assert visits.comments(a) == [] and visits.comments(b) == []
    monkeypatch.setattr(sweep_mod, "_recheck", real)
    visits.advance(hours=1)
    st = sweep(svc, mid, visits.now())            # next sweep sees a's result: not overdue; b is done
    assert st.moved == 0 and visits.stage_key(a) == "draft"


def test_a_touch_seen_in_the_events_after_the_read_is_respected(visits, monkeypatch):
    """An ONCRMDYNAMICITEMUPDATE recorded (by the worker) after the read started skips the item even if the
    re-read shows nothing new yet (e.g. the change is in flight)."""
    import visits.sweep as sweep_mod

    svc, mid = visits.services, visits.member_id
    a = create_visit(svc, mid, visits.company(5)["ID"], _at(visits, -2))["id"]
    real = sweep_mod._recheck

    def event_arrives(client, etid, moves):
        VisitsLedger(visits.live.store.engine, mid).touch(a, visits.cloud.clock.now() + 1)
        return real(client, etid, moves)

    monkeypatch.setattr(sweep_mod, "_recheck", event_arrives)
    assert sweep(svc, mid, visits.now()).skipped_changed == 1 and visits.stage_key(a) == "draft"


def test_the_event_handler_records_touches_from_portal_events(visits):
    svc, mid, v = visits.services, visits.member_id, visits.v
    a = create_visit(svc, mid, visits.company(6)["ID"], _at(visits, 3))["id"]
    visits.run_events()
    visits.advance(hours=1)
    t = visits.cloud.clock.now()
    visits.client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": a, "fields": {"title": "x"}})
    visits.run_events()
    assert a in VisitsLedger(visits.live.store.engine, mid).touched_since(t)


def _http(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if r.via == "http")


@pytest.mark.slow
def test_5000_visits_swept_in_batches(visits):
    from b24app.throttle import Throttle

    svc, mid, v = visits.services, visits.member_id, visits.v
    svc.throttle = Throttle(burst=10**9, drain=10**9)          # our leaky bucket would take minutes
    visits.live.store.kv.set(visits.member_id, rules.KV_WORK_DAYS, rules.OFF)   # about other rules: drafts wait
    visits.portal.settings.rate_limit = False
    n = 5000
    company = visits.company(7)
    when = _at(visits, -3)
    base = {"categoryId": v.category_id, "stageId": v.stage("in_work"), "companyId": int(company["ID"]),
            v.field("visit_date"): when, "assignedById": 1}
    adds = [("crm.item.add", {"entityTypeId": v.entity_type_id, "fields": {**base, "title": f"v{i}"}})
            for i in range(n)]
    assert all(r.ok for r in visits.client.batch_many(adds))
    extra = create_visit(svc, mid, company["ID"], _at(visits, 10), sync_calendar=False)["id"]   # not due
    visits.advance(hours=1)

    before = len(visits.portal.log)
    st = sweep(svc, mid, visits.now())
    calls = _http(visits.portal, before)
    assert st.moved == n and st.errors == 0
    pages = math.ceil(n / 2500) + 1
    bound = 3 * pages + math.ceil(n / 2500) + math.ceil(2 * n / 50)     # 3 list queries, re-read, writes
    assert st.http_calls == calls <= bound, (calls, bound)
    assert visits.stage_key(extra) == "draft"
    print(f"\n5000 visits: {calls} HTTP calls (bound {bound}); state {visits.live.store.kv.get(mid, STATE_KEY)}")

    visits.advance(hours=1)                      # incremental: nothing due, nothing changed → a few calls
    before = len(visits.portal.log)
    st = sweep(svc, mid, visits.now())
    second = _http(visits.portal, before)
    assert st.moved == 0 and second <= 2 * 3 + 2, second       # the watermark window still holds our writes
    print(f"second sweep: {second} HTTP calls, read {st.read} rows")
    visits.advance(days=6)
    before = len(visits.portal.log)
    st = sweep(svc, mid, visits.now())
    assert st.moved == n                          # all go to failed
    print(f"failed sweep: {_http(visits.portal, before)} HTTP calls")


def test_wired_into_the_scheduler_and_the_inbox(visits):
    from visits.events import on_item_change, on_item_delete

    registry = visits.services.registry                  # what create_app built from the enabled domains
    jt = registry.periodic["visits.sweep"]
    assert jt.setting_key == rules.KV_SWEEP_SECONDS
    handler = [d.fn for d in registry.events["ONCRMDYNAMICITEMUPDATE"]]
    assert on_item_change in handler
    handler = [d.fn for d in registry.events["ONCRMDYNAMICITEMDELETE"]]
    assert on_item_delete in handler
    jt.fn(visits.services, visits.member_id)              # the job as the scheduler runs it (real clock)
    assert visits.live.store.kv.get(visits.member_id, STATE_KEY)["wm"]
