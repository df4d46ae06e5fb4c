"""The hard booking rules (maps/booking_rules.py, issue 14) on plain values: never in the past, never
outside the worker's hours (day off, before the shift, past its end), a busy worker only by override — and
"busy" is exactly what the candidate list calls "нет свободного окна"."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from b24app.errors import text_of
from maps import booking_rules as br
from maps.dispatch import rank_candidates
from maps.schedule import Job, Worker, WorkerDay, WorkingHours
from tests.maps.conftest import DAY, LineTravel, x

TZ = ZoneInfo("Europe/Moscow")
W = Worker("4", "Иван", WorkingHours(time(9), time(18), tz=TZ), x(0))


def _at(h, m=0, day=DAY):
    return datetime.combine(day, time(h, m), tzinfo=TZ)


def _job(h, m=0, minutes=60, where=10, day=DAY):
    return Job("new", x(where), minutes, _at(h, m, day))


BOOKED = Job("b1", x(10), 120, _at(10))       # 10:00–12:00 at x=10
WD = WorkerDay(W, DAY, (BOOKED,))
NOW = _at(6)


def test_free_time_passes_without_override():
    assert br.check(WD, _job(14), LineTravel(), NOW) is False


def test_past_is_refused_even_with_override():
    with pytest.raises(br.InThePast) as e:
        br.check(WD, _job(14), LineTravel(), _at(15), override=True)
    assert "уже прошло" in text_of(e.value, "ru") and "in the past" in text_of(e.value, "en")


@pytest.mark.parametrize("job", [_job(7), _job(17, 30), _job(23)])
def test_outside_the_shift_is_refused_even_with_override(job):
    with pytest.raises(br.OutsideHours) as e:
        br.check(WD, job, LineTravel(), NOW, override=True)
    assert "вне рабочего времени" in text_of(e.value, "ru")


def test_a_day_off_is_refused():
    sunday = DAY + timedelta(days=(6 - DAY.weekday()))
    with pytest.raises(br.OutsideHours) as e:
        br.check(replace(WD, day=sunday, jobs=()), _job(12, day=sunday), LineTravel(), NOW)
    assert "выходной" in text_of(e.value, "ru")


@pytest.mark.parametrize("job", [_job(11), _job(12, 0, where=40)])     # overlap; no time to drive 30 min
def test_busy_is_what_the_candidate_list_says_and_takes_an_override(job):
    (cand,) = rank_candidates(job, [WD], LineTravel())
    assert not cand.fits and "нет свободного окна" in cand.reason("ru")
    with pytest.raises(br.WorkerBusy) as e:
        br.check(WD, job, LineTravel(), NOW)
    assert e.value.overridable and "подтвердите" in text_of(e.value, "ru")
    assert br.check(WD, job, LineTravel(), NOW, override=True) is True


def test_the_past_part_of_today_is_a_busy_block():
    assert br.past_block(DAY, _at(13, 30)) == (_at(0), _at(13, 30))
    assert br.past_block(DAY + timedelta(days=1), _at(13, 30)) is None
    wd = replace(WD, busy=(br.past_block(DAY, _at(13, 30)),))
    (cand,) = rank_candidates(replace(_job(12), start=None), [wd], LineTravel())
    assert cand.fits and cand.insertion.arrival >= _at(13, 30)
