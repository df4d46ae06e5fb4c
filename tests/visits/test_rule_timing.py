"""The exact moments of the kanban rules, with the portal's FakeClock as the only clock: each rule is
swept one minute before its moment (nothing moves) and at the moment (it moves, once) — in the portal's
time zone, across a daylight-saving change, and for a visit exactly at local midnight (the boundary of
two incremental sweeps)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from visits import rules
from visits.create import create_visit
from visits.sweep import sweep

MINUTE = timedelta(minutes=1)


def _go(visits, moment: datetime) -> None:
    """Move the portal's clock to ``moment`` (forward only)."""
    delta = moment.timestamp() - visits.cloud.clock.now()
    assert delta >= 0, (moment, visits.now())
    visits.cloud.clock.advance(delta)


def _sweep_at(visits, moment: datetime):
    _go(visits, moment)
    return sweep(visits.services, visits.member_id, visits.now())


def _when(visits, vid: int) -> datetime:
    return datetime.fromisoformat(visits.item(vid)[visits.v.field("visit_date")])


def _tz(visits, name: str) -> ZoneInfo:
    visits.live.store.kv.set(visits.member_id, rules.KV_TZ, name)
    return ZoneInfo(name)


def test_a_visit_exactly_at_local_midnight_becomes_overdue(visits):
    """Regression: the overdue query read ``< today's midnight`` and the next incremental one ``> previous
    midnight`` — a visit at exactly 00:00 fell between the two sweeps and stayed open for ever."""
    msk = _tz(visits, "Europe/Moscow")
    visits.live.store.kv.set(visits.member_id, rules.KV_WORK_DAYS, rules.OFF)   # about other rules: drafts wait
    vid = create_visit(visits.services, visits.member_id, visits.company(50)["ID"], "2026-01-02T00:00")["id"]
    assert _when(visits, vid) == datetime(2026, 1, 2, 0, 0, tzinfo=msk)
    assert _sweep_at(visits, visits.now()).moved == 0                                    # Jan 1, 03:00
    assert _sweep_at(visits, datetime(2026, 1, 2, 12, 0, tzinfo=msk)).moved == 0         # its day is not over
    assert _sweep_at(visits, datetime(2026, 1, 2, 23, 59, tzinfo=msk)).moved == 0
    st = _sweep_at(visits, datetime(2026, 1, 3, 0, 0, tzinfo=msk))                        # its day is over
    assert st.moves == [(vid, rules.OVERDUE)] and visits.stage_key(vid) == "overdue"
    assert _sweep_at(visits, datetime(2026, 1, 3, 0, 5, tzinfo=msk)).moved == 0           # once


def test_repeat_returns_to_work_exactly_n_days_before_in_the_portal_zone(visits):
    """N = 3, portal in Yekaterinburg (+05): a repeat visit on Jan 6 10:00 local goes back to In work at
    Jan 3 10:00 local (05:00 UTC) — not a minute earlier, and not at 10:00 Moscow time."""
    ekb = _tz(visits, "Asia/Yekaterinburg")
    svc, mid = visits.services, visits.member_id
    vid = create_visit(svc, mid, visits.company(51)["ID"], "2026-01-06T10:00", "repeat", stage="repeat_visit")["id"]
    assert _when(visits, vid) == datetime(2026, 1, 6, 10, 0, tzinfo=ekb)     # the portal answers in its own zone
    assert _sweep_at(visits, visits.now()).moved == 0
    moment = datetime(2026, 1, 3, 10, 0, tzinfo=ekb)
    assert _sweep_at(visits, moment - MINUTE).moved == 0
    assert visits.stage_key(vid) == "repeat_visit"
    st = _sweep_at(visits, moment)
    assert st.moves == [(vid, rules.REPEAT)] and visits.stage_key(vid) == "in_work"
    assert visits.now() == moment.astimezone(UTC)


def test_repeat_counts_local_days_across_a_daylight_saving_change(visits):
    """Berlin moves to summer time on 2026-03-29. A repeat visit on Mar 30 10:00 CEST with N = 3 returns
    at Mar 27 10:00 CET (09:00 UTC) — three local days, not 72 hours (which would be 08:00 UTC)."""
    berlin = _tz(visits, "Europe/Berlin")
    svc, mid = visits.services, visits.member_id
    vid = create_visit(svc, mid, visits.company(52)["ID"], "2026-03-30T10:00", "repeat", stage="repeat_visit")["id"]
    assert _when(visits, vid) == datetime(2026, 3, 30, 10, 0, tzinfo=berlin)
    assert _sweep_at(visits, visits.now()).moved == 0
    assert _sweep_at(visits, datetime(2026, 3, 27, 8, 0, tzinfo=UTC)).moved == 0          # 72 h before
    assert _sweep_at(visits, datetime(2026, 3, 27, 8, 59, tzinfo=UTC)).moved == 0
    st = _sweep_at(visits, datetime(2026, 3, 27, 10, 0, tzinfo=berlin))
    assert st.moves == [(vid, rules.REPEAT)]


def test_overdue_at_the_first_sweep_after_local_midnight_then_failed_after_exactly_m_days(visits):
    """Portal in Vladivostok (+10): a visit on Jan 2 18:00 local without a result is overdue from local
    midnight (Jan 2 14:00 UTC); M = 5 days after it entered Overdue (movedTime) it fails — to the second."""
    vvo = _tz(visits, "Asia/Vladivostok")
    visits.live.store.kv.set(visits.member_id, rules.KV_WORK_DAYS, rules.OFF)   # about other rules: drafts wait
    visits.live.store.kv.set(visits.member_id, rules.KV_OVERDUE_DAYS, 5)
    svc, mid = visits.services, visits.member_id
    vid = create_visit(svc, mid, visits.company(53)["ID"], "2026-01-02T18:00")["id"]
    assert _sweep_at(visits, visits.now()).moved == 0
    midnight = datetime(2026, 1, 3, 0, 0, tzinfo=vvo)
    assert _sweep_at(visits, midnight - MINUTE).moved == 0
    # the scheduler's sweeps are 5 minutes apart: the first one after midnight moves it
    st = _sweep_at(visits, midnight + timedelta(minutes=3))
    assert st.moves == [(vid, rules.OVERDUE)]
    moved_at = rules.parse_dt(visits.item(vid)["movedTime"], vvo)
    assert moved_at == (midnight + timedelta(minutes=3)).astimezone(UTC)
    fail_at = moved_at + timedelta(days=5)
    assert _sweep_at(visits, fail_at - MINUTE).moved == 0 and visits.stage_key(vid) == "overdue"
    st = _sweep_at(visits, fail_at)
    assert st.moves == [(vid, rules.FAILED)] and visits.stage_key(vid) == "failed"
    assert _sweep_at(visits, fail_at + MINUTE).moved == 0
    assert len(visits.comments(vid)) == 2


def test_a_draft_moves_to_in_work_n_days_before_its_date_by_itself(visits):
    """Seed 001: drafts planned weeks ahead are taken into work a week (work_days, N = 7) before the visit —
    not a minute earlier, once, with a timeline comment saying why; switched off, drafts wait for a person."""
    msk = _tz(visits, "Europe/Moscow")
    svc, mid = visits.services, visits.member_id
    vid = create_visit(svc, mid, visits.company(53)["ID"], "2026-01-20T10:00")["id"]
    assert visits.stage_key(vid) == "draft"
    assert _sweep_at(visits, visits.now()).moved == 0                                   # 19 days ahead
    assert _sweep_at(visits, datetime(2026, 1, 13, 9, 59, tzinfo=msk)).moved == 0
    st = _sweep_at(visits, datetime(2026, 1, 13, 10, 0, tzinfo=msk))
    assert st.moves == [(vid, rules.DRAFT)] and visits.stage_key(vid) == "in_work"
    assert any("черновик взят в работу" in c and "7 дн." in c for c in visits.comments(vid))
    assert _sweep_at(visits, datetime(2026, 1, 13, 10, 5, tzinfo=msk)).moved == 0        # once

    visits.live.store.kv.set(mid, rules.KV_WORK_DAYS, rules.OFF)
    later = create_visit(svc, mid, visits.company(54)["ID"], "2026-01-15T10:00")["id"]
    assert _sweep_at(visits, datetime(2026, 1, 14, 12, 0, tzinfo=msk)).moved == 0
    assert visits.stage_key(later) == "draft"
