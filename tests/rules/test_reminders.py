"""Seed 004's time-based rules with the sandbox portal's clock: what reached the portal (im.notify.system.add,
tasks.task.add in its request log), when, and only once."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from rules.ledger import RulesLedger

MSK = ZoneInfo("Europe/Moscow")


def msk(*a) -> datetime:
    return datetime(*a, tzinfo=MSK)


@pytest.mark.parametrize("clock_start", [msk(2026, 12, 29, 9, 0)])
def test_payment_reminder_due_on_31_december_lands_on_the_first_working_day_of_january(furniture):
    f = furniture
    f.set_now(msk(2026, 12, 29, 10, 0))                      # Tuesday: the deal starts waiting for payment
    deal = f.add_deal("PAYMENT", TITLE="Витрина")
    assert f.sweep().fired == [] and f.notes() == []
    f.set_now(msk(2026, 12, 31, 10, 0))                      # two calendar days — but 31 Dec is a day off
    assert f.sweep().fired == [] and f.notes() == []
    f.set_now(msk(2027, 1, 9, 12, 0))                        # still the New Year holidays / weekend
    assert f.sweep().fired == []
    f.set_now(msk(2027, 1, 11, 9, 59))                       # first working day, before the due time
    assert f.sweep().fired == []
    f.set_now(msk(2027, 1, 11, 10, 0))
    st = f.sweep()
    assert [(r, d) for r, d, _ in st.fired] == [("payment_wait", deal)]
    assert [n["USER_ID"] for n in f.notes()] == [f.manager, f.head]         # manager and the sales head
    assert "Витрина" in f.notes()[0]["MESSAGE"] and "1 из 3" in f.notes()[0]["MESSAGE"]
    assert f.sweep().fired == [] and len(f.notes()) == 2                     # once
    f.set_now(msk(2027, 1, 13, 10, 0))                       # 2 business days later: the 2nd of 3
    assert len(f.sweep().fired) == 1 and "2 из 3" in f.notes()[-1]["MESSAGE"] and len(f.notes()) == 4
    f.set_now(msk(2027, 1, 15, 10, 0))
    assert len(f.sweep().fired) == 1 and "3 из 3" in f.notes()[-1]["MESSAGE"]
    f.set_now(msk(2027, 1, 20, 10, 0))                       # three is all
    assert f.sweep().fired == [] and len(f.notes()) == 6


@pytest.mark.parametrize("clock_start", [msk(2027, 2, 18, 9, 0)])
def test_a_saturday_made_working_counts_and_moving_on_stops_the_reminders(furniture):
    f = furniture
    f.set_now(msk(2027, 2, 18, 11, 0))                       # Thursday; Sat 20 Feb 2027 is a working day
    deal = f.add_deal("PAYMENT")
    f.set_now(msk(2027, 2, 20, 10, 59))
    assert f.sweep().fired == []
    f.set_now(msk(2027, 2, 20, 11, 0))                       # Fri 19 + Sat 20 = 2 business days
    assert len(f.sweep().fired) == 1 and len(f.notes()) == 2
    f.move(deal, "DESIGN")                                   # paid: the deal moves on
    f.set_now(msk(2027, 2, 25, 12, 0))
    assert f.sweep().fired == [] and len(f.notes()) == 2


@pytest.mark.parametrize("clock_start", [msk(2027, 3, 1, 8, 0)])
def test_reminders_missed_while_the_scheduler_was_down_send_the_latest_only(furniture):
    f = furniture
    f.set_now(msk(2027, 3, 1, 10, 0))                        # Monday
    deal = f.add_deal("PAYMENT")
    f.set_now(msk(2027, 3, 5, 10, 0))                        # Fri: reminders 1 (Wed) and 2 (Fri) are due
    st = f.sweep()
    assert [o for _, _, o in st.fired] == [f"{f.stage('PAYMENT')}@{f.deal(deal)['MOVED_TIME']}#2"]
    assert st.skipped == 1 and len(f.notes()) == 2 and "2 из 3" in f.notes()[0]["MESSAGE"]
    statuses = sorted(r["status"] for r in RulesLedger(f.live.store.engine, f.member_id).rows(deal))
    assert statuses == ["done", "skipped"]


@pytest.mark.parametrize("clock_start", [msk(2027, 3, 1, 8, 0)])
def test_production_norm_5_standard_7_custom_then_three_a_day(furniture):
    f = furniture
    f.set_now(msk(2027, 3, 1, 9, 0))                         # Monday
    std = f.add_deal("PRODUCTION", TITLE="Стеллаж", UF_CRM_ORDER_TYPE="standard")
    custom = f.add_deal("PRODUCTION", TITLE="Островок", UF_CRM_ORDER_TYPE="custom")
    f.set_now(msk(2027, 3, 5, 18, 0))
    assert f.sweep().fired == []
    # 5 business days: Tue 2, Wed 3, Thu 4, Fri 5, Tue 9 (Mon 8 March is a holiday) → 9:00 Tue 9 March
    f.set_now(msk(2027, 3, 9, 9, 0))
    assert [(r, d) for r, d, _ in f.sweep().fired] == [("production_norm_standard", std)]
    assert sorted(n["USER_ID"] for n in f.notes()) == sorted([f.production_head, f.manager])
    # then every 3 working hours: 12:00, 15:00 — three a day
    for hour, count in ((11, 0), (12, 1), (15, 1), (17, 0)):
        f.set_now(msk(2027, 3, 9, hour, 59 if count == 0 else 0))
        assert len(f.sweep().fired) == count, hour
    # the custom one: 7 business days → Thu 11 March 9:00
    f.set_now(msk(2027, 3, 11, 9, 0))
    fired = f.sweep().fired
    assert ("production_norm_custom", custom) in [(r, d) for r, d, _ in fired]
    assert any("7 рабочих дней" in n["MESSAGE"] for n in f.notes())


@pytest.mark.parametrize("clock_start", [msk(2027, 3, 1, 8, 0)])
def test_shipment_date_moves_the_deal_and_not_shipped_tells_the_head_the_next_day(furniture):
    f = furniture
    f.set_now(msk(2027, 3, 1, 9, 0))
    deal = f.add_deal("READY", UF_CRM_SHIP_AT="2027-03-03T14:00:00+03:00")
    f.set_now(msk(2027, 3, 3, 13, 59))
    assert f.sweep().fired == []
    f.set_now(msk(2027, 3, 3, 14, 0))
    assert [r for r, _, _ in f.sweep().fired] == ["shipment_day"]
    assert f.deal(deal)["STAGE_ID"] == f.stage("SHIPMENT")
    assert [n["USER_ID"] for n in f.notes()] == [f.manager] and "Сегодня" in f.notes()[0]["MESSAGE"]
    f.set_now(msk(2027, 3, 4, 14, 0))                        # a day later, still in Shipment
    assert [r for r, _, _ in f.sweep().fired] == ["not_shipped"]
    assert f.notes()[-1]["USER_ID"] == f.head and "не отгружен" in f.notes()[-1]["MESSAGE"]
    assert f.sweep().fired == []
