"""Seed 004's event-driven rules through the real inbox and worker: the portal's offline events are pulled,
the worker runs every domain's handlers (rules among them) — a stage entered makes a task and a
notification once, a replayed event acts never again, a forbidden move back is reverted with the reason,
the order number comes with the first payment amount, and a run that broke mid-rule resumes where it was."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from rules.ledger import RulesLedger
from tests.rules.conftest import PASSED, drain

MSK = ZoneInfo("Europe/Moscow")
START = datetime(2027, 3, 1, 10, 0, tzinfo=MSK)        # Monday


def _replay(f, deal_id: int, event: str = "ONCRMDEALUPDATE", copies: int = 2) -> None:
    """The same event delivered again (the portal's retry, or its online copy beside the offline one)."""
    f.breathe()
    for i in range(copies):
        f.live.store.inbox.put(f.member_id, "event", event, {"event": event, "data": {"FIELDS": {"ID": deal_id}}},
                               f"replay:{deal_id}:{i}")
    drain(f.services, f.member_id)


@pytest.mark.parametrize("clock_start", [START])
def test_stage_entered_makes_the_production_task_once_even_when_the_event_comes_twice(furniture):
    f = furniture
    deal = f.add_deal("DESIGN", TITLE="Торговый островок", **PASSED)
    f.run_events()
    assert f.notes() == [] and f.tasks(f.production_head) == []
    f.move(deal, "PROD_TASK")
    f.run_events()
    assert [n["USER_ID"] for n in f.notes()] == [f.production_head]
    assert "Торговый островок" in f.notes()[0]["MESSAGE"]
    [task] = f.tasks(f.production_head)
    assert int(task["RESPONSIBLE_ID"]) == f.production_head and task["UF_CRM_TASK"] == [f"D_{deal}"]
    assert sorted(int(a) for a in task["AUDITORS"]) == sorted([f.head, f.manager])
    assert task["DEADLINE"].startswith("2027-03-02T10:0")                 # 1 business day after the move
    _replay(f, deal)
    _replay(f, deal, "ONCRMDEALADD")
    assert len(f.notes()) == 1 and len(f.tasks(f.production_head)) == 1
    # a later, real re-entry into the stage is a new occurrence
    f.move(deal, "DESIGN")
    f.advance(hours=1)
    f.move(deal, "PROD_TASK")
    f.run_events()
    assert len(f.tasks(f.production_head)) == 2


@pytest.mark.parametrize("clock_start", [START])
def test_a_move_back_past_shipment_is_reverted_with_the_reason(furniture):
    f = furniture
    deal = f.add_deal("READY")
    f.run_events()
    f.move(deal, "SHIPMENT")
    f.run_events()
    f.move(deal, "READY")                                 # someone drags it back
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("SHIPMENT")
    reverts = [r for r in f.portal.log if r.method == "crm.deal.update" and r.status == 200
               and (r.params.get("fields") or {}).get("STAGE_ID") == f.stage("SHIPMENT")]
    assert len(reverts) == 2                              # the person's move forward + our revert
    [note] = f.notes()
    assert note["USER_ID"] == f.manager and "раньше" in note["MESSAGE"] and f.stage("SHIPMENT") in note["MESSAGE"]
    _replay(f, deal)                                      # our own revert's event and replays: nothing more
    assert len(f.notes()) == 1 and f.deal(deal)["STAGE_ID"] == f.stage("SHIPMENT")
    # moving forward is never blocked
    f.move(deal, "INSTALL")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("INSTALL") and len(f.notes()) == 1


@pytest.mark.parametrize("clock_start", [START])
def test_a_move_back_seen_only_after_the_fact_is_still_reverted(furniture):
    """The worker was down: both moves happened before any event was handled; PREVIOUS_STAGE_ID tells."""
    f = furniture
    deal = f.add_deal("SHIPMENT")
    f.move(deal, "APPROVAL")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("SHIPMENT") and len(f.notes()) == 1


@pytest.mark.parametrize("clock_start", [START])
def test_order_number_with_the_first_payment_amount_never_reused(furniture):
    f = furniture
    a = f.add_deal("PAYMENT")
    b = f.add_deal("PAYMENT")
    f.run_events()
    assert not f.deal(a).get("UF_CRM_ORDER_NUMBER")       # no amount yet: no number
    f.client.call("crm.deal.update", {"id": a, "fields": {"UF_CRM_PAYMENT_AMOUNT": 15000}})
    f.run_events()
    assert f.deal(a)["UF_CRM_ORDER_NUMBER"] == "2027-00001"
    f.client.call("crm.deal.update", {"id": a, "fields": {"UF_CRM_PAYMENT_AMOUNT": 30000}})   # changed again
    f.client.call("crm.deal.update", {"id": b, "fields": {"UF_CRM_PAYMENT_AMOUNT": 5000}})
    f.run_events()
    _replay(f, a)
    assert f.deal(a)["UF_CRM_ORDER_NUMBER"] == "2027-00001" and f.deal(b)["UF_CRM_ORDER_NUMBER"] == "2027-00002"
    f.client.call("crm.deal.delete", {"id": b})
    c = f.add_deal("PAYMENT", UF_CRM_PAYMENT_AMOUNT=100)
    f.run_events()
    assert f.deal(c)["UF_CRM_ORDER_NUMBER"] == "2027-00003"      # b's number is not reused


@pytest.mark.parametrize("clock_start", [START])
def test_a_rule_broken_after_its_first_action_resumes_there_once(furniture):
    """The portal refuses the task once: the notification went out, the task did not. The inbox retries the
    event; the ledger resumes at the task — one notification, one task."""
    f = furniture
    deal = f.add_deal("DESIGN", **PASSED)
    f.run_events()
    f.portal.faults.fail_method("tasks.task.add", "INTERNAL_SERVER_ERROR", "try later", 500, times=1)
    f.move(deal, "PROD_TASK")
    f.run_events()
    assert len(f.notes()) == 1 and len(f.tasks(f.production_head)) == 1
    [row] = [r for r in RulesLedger(f.live.store.engine, f.member_id).rows(deal) if r["rule_id"] == "production_task"]
    assert row["status"] == "done" and row["step"] == 2


@pytest.mark.parametrize("clock_start", [datetime(2027, 3, 1, 8, 0, tzinfo=MSK)])
def test_the_scheduler_restarted_mid_rule_finishes_it_without_repeating(furniture):
    """shipment_day = move to Shipment, then notify. The first pass moves the deal and then fails to notify
    (the portal refuses once); the restarted scheduler resumes at the notification although the deal is no
    longer in Ready (the rule's condition): one move, one notification."""
    f = furniture
    deal = f.add_deal("READY", UF_CRM_SHIP_AT="2027-03-03T14:00:00+03:00")
    f.set_now(datetime(2027, 3, 3, 14, 0, tzinfo=MSK))
    f.portal.faults.fail_method("im.notify.system.add", "INTERNAL_SERVER_ERROR", "try later", 500, times=1)
    st = f.sweep()
    assert st.fired == [] and len(st.errors) == 1 and f.deal(deal)["STAGE_ID"] == f.stage("SHIPMENT")
    [row] = RulesLedger(f.live.store.engine, f.member_id).rows(deal)
    assert (row["status"], row["step"]) == ("failed", 1)
    st = f.sweep()                                         # the next pass (a new process reads the same ledger)
    assert [r for r, _, _ in st.fired] == ["shipment_day"]
    moves = [r for r in f.portal.log if r.method == "crm.deal.update" and r.status == 200]
    assert len(moves) == 1 and len(f.notes()) == 1
    assert f.sweep().fired == [] and len(f.notes()) == 1


@pytest.mark.parametrize("clock_start", [datetime(2027, 3, 1, 8, 0, tzinfo=MSK)])
def test_a_scheduler_that_died_mid_rule_is_taken_over_after_its_lease(furniture):
    f = furniture
    deal = f.add_deal("READY", UF_CRM_SHIP_AT="2027-03-03T14:00:00+03:00")
    f.set_now(datetime(2027, 3, 3, 14, 0, tzinfo=MSK))
    ledger = RulesLedger(f.live.store.engine, f.member_id)
    # the dead process: claimed, moved the deal (step 1), then vanished without a word
    occ = f"UF_CRM_SHIP_AT={f.deal(deal)['UF_CRM_SHIP_AT']}#1"
    claim = ledger.claim("shipment_day", "deal", deal, occ)
    f.move(deal, "SHIPMENT")
    claim.advance()
    assert f.sweep().fired == []                          # its lease still runs: nobody else acts
    later = RulesLedger(f.live.store.engine, f.member_id, clock=lambda: claim.ledger.clock() + 3600)
    assert later.claim("shipment_day", "deal", deal, occ).step == 1           # taken over at step 1


@pytest.mark.parametrize("clock_start", [START])
def test_leaving_a_won_stage_is_left_to_the_paid_gate(furniture):
    """The 1C paid gate moves an unpaid won deal back to where it was; the stage guard only watches the
    process stages, so it never reverts the gate's move (the two would undo each other forever)."""
    f = furniture
    deal = f.add_deal("READY")
    f.run_events()
    f.move(deal, "WON")
    f.run_events()
    f.move(deal, "READY")                                 # what the gate does to an unpaid deal
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("READY")
    assert not [r for r in RulesLedger(f.live.store.engine, f.member_id).rows(deal)
                if r["rule_id"] == "no_way_back_after_shipment"]


@pytest.mark.parametrize("clock_start", [START])
def test_an_entry_condition_guard_reverts_a_deal_closed_without_signed_documents(furniture):
    """"Сделка завершена" only with the signed closing documents attached AND paid in full (the preset's
    closing guard): entering the stage without them moves the deal back where it came from and says why;
    with both it stays."""
    f = furniture
    deal = f.add_deal("INSTALL", TITLE="Стеллажи", **PASSED)
    f.run_events()
    f.move(deal, "WON", UF_CRM_PAID_FULL="Y")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("INSTALL")
    [note] = [n for n in f.notes() if "возвращена" in n["MESSAGE"]]
    assert note["USER_ID"] == f.manager and "подписанными закрывающими документами" in note["MESSAGE"]
    f.advance(hours=1)
    f.move(deal, "WON", UF_CRM_CLOSING_DOCS="акт №15 подписан")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("WON")
    assert len([n for n in f.notes() if "возвращена" in n["MESSAGE"]]) == 1
    # the guard's move back into Installation was not a new entry: one installation control task
    assert len([t for t in f.tasks() if "монтаж" in t["TITLE"]]) == 1
