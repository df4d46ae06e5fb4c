"""b24app/guards.py — the one refusal mechanism of the rules' guards and the 1C paid gate: a move refused by
two guards goes back once and each says why; the stage a guard moved back to is not a new entry; the paid
gate's verdict is the named check ``paid_in_full`` (no 1C base here: no verdict, the deal is not held)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from b24app import guards
from tests.rules.conftest import PASSED

START = datetime(2027, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.mark.parametrize("clock_start", [START])
def test_two_guards_refusing_one_move_move_it_back_once_and_both_say_why(furniture):
    f = furniture
    deal = f.add_deal("INSTALL", **PASSED)
    f.move(deal, "WON")
    row = f.deal(deal)
    f.breathe()
    mark = len(f.portal.log)
    a = guards.revert(f.services, f.member_id, client=f.client, entity="deal", row=row, back=f.stage("INSTALL"),
                      guard="sync_1c.paid_gate", users=[f.manager], message="не оплачено")
    b = guards.revert(f.services, f.member_id, client=f.client, entity="deal", row=row, back=f.stage("INSTALL"),
                      guard="rules.closing_guard", users=[f.manager], message="нет документов")
    assert a["moved"] is True and b["moved"] is False
    moves = [r for r in f.portal.log[mark:] if r.method == "crm.deal.update"]
    assert len(moves) == 1 and f.deal(deal)["STAGE_ID"] == f.stage("INSTALL")
    assert [n["MESSAGE"] for n in f.notes(f.manager)] == ["не оплачено", "нет документов"]
    assert guards.moved_back_to(f.live.store.kv, f.member_id, "deal", deal) == f.stage("INSTALL")
    # the same guard again (its step retried after a failure) may finish its own move; another may not
    again = guards.revert(f.services, f.member_id, client=f.client, entity="deal", row=row,
                          back=f.stage("INSTALL"), guard="sync_1c.paid_gate", users=[], message="")
    assert again["moved"] is True and f.deal(deal)["STAGE_ID"] == f.stage("INSTALL")
    other = guards.revert(f.services, f.member_id, client=f.client, entity="deal", row=row,
                          back=f.stage("CALC"), guard="rules.closing_guard", users=[], message="")
    assert other["moved"] is False and f.deal(deal)["STAGE_ID"] == f.stage("INSTALL")


def test_paid_in_full_is_the_gates_verdict_and_unknown_checks_are_refused():
    from rules import model

    assert "paid_in_full" in guards.known_checks()
    import sync_1c.gate  # the gate provides the check when its domain is loaded
    assert guards._providers["paid_in_full"] is sync_1c.gate.paid_in_full
    doc = {"version": 1, "rules": [{"id": "x", "trigger": {"type": "stage_entered", "stage": "WON"},
                                    "conditions": [{"check": "paid_by_magic"}], "actions": [{"type": "revert_move"}]}]}
    with pytest.raises(model.RulesError, match="paid_by_magic"):
        model.validate(doc)
    with pytest.raises(KeyError):
        guards.provide("paid_by_magic", lambda *a: True)
