from datetime import time, timedelta

from maps.schedule import Job, Worker, WorkerDay, WorkingHours, free_windows, insertion_options, subtract
from tests.maps.conftest import DAY, at, x

NINE_SIX = WorkingHours(time(9), time(18))
WITH_LUNCH = WorkingHours(time(9), time(18), breaks=((time(13), time(14)),))


def spans(windows):
    return [(w.start.strftime("%H:%M"), w.end.strftime("%H:%M")) for w in windows]


def test_empty_day_is_one_window_and_lunch_splits_it(line):
    assert spans(free_windows(DAY, NINE_SIX, [], [], line)) == [("09:00", "18:00")]
    assert spans(free_windows(DAY, WITH_LUNCH, [], [], line)) == [("09:00", "13:00"), ("14:00", "18:00")]


def test_day_off_has_no_windows(line):
    saturday = DAY + timedelta(days=3)
    assert free_windows(saturday, NINE_SIX, [], [], line) == []


def test_travel_from_home_and_back_is_reserved(line):
    jobs = [Job("A", x(20), 60, at(11))]
    ws = free_windows(DAY, NINE_SIX, jobs, [], line, start_location=x(0))
    assert spans(ws) == [("09:00", "10:40"), ("12:00", "18:00")]
    assert ws[0].origin == x(0) and ws[0].destination == x(20) and ws[0].before_job == "A"
    assert ws[1].after_job == "A" and ws[1].destination is None
    ws = free_windows(DAY, NINE_SIX, jobs, [], line, start_location=x(0), end_location=x(0))
    assert spans(ws) == [("09:00", "10:40"), ("12:00", "17:40")]


def test_calendar_busy_time_cuts_windows_without_moving_the_worker(line):
    jobs = [Job("A", x(10), 60, at(10))]
    busy = [(at(14), at(15, 30)), (at(15), at(16))]  # overlapping calendar events
    ws = free_windows(DAY, NINE_SIX, jobs, busy, line, start_location=x(0))
    assert spans(ws) == [("09:00", "09:50"), ("11:00", "14:00"), ("16:00", "18:00")]
    assert all(w.origin == x(10) for w in ws[1:])


def test_double_booked_jobs_leave_from_the_one_that_ends_last(line):
    jobs = [Job("A", x(10), 120, at(10)), Job("B", x(40), 120, at(11))]
    ws = free_windows(DAY, NINE_SIX, jobs, [], line, start_location=x(0))
    assert spans(ws) == [("09:00", "09:50"), ("13:00", "18:00")]
    assert ws[1].after_job == "B" and ws[1].origin == x(40)


def test_jobs_outside_working_hours_block_no_window_but_set_the_place(line):
    early = Job("E", x(30), 60, at(7))
    late = Job("L", x(60), 60, at(19))
    ws = free_windows(DAY, NINE_SIX, [early, late], [], line, start_location=x(0))
    # the worker starts the shift where the 7:00 job was, and must be on the road by 17:30 for 19:00
    assert spans(ws) == [("09:00", "17:30")]
    assert ws[0].origin == x(30) and ws[0].before_job == "L"


def test_window_too_short_after_travel_is_dropped(line):
    jobs = [Job("A", x(0), 60, at(10)), Job("B", x(20), 60, at(11, 30))]
    ws = free_windows(DAY, NINE_SIX, jobs, [], line, start_location=x(0))
    assert ("11:00", "11:10") not in spans(ws)  # 30 min gap − 20 min drive = 10 min < 30 min
    ws = free_windows(DAY, NINE_SIX, jobs, [], line, start_location=x(0), min_minutes=10)
    assert ("11:00", "11:10") in spans(ws)


def test_drive_across_lunch_uses_time_on_both_sides(line):
    jobs = [Job("A", x(0), 50, at(12)), Job("B", x(20), 60, at(14, 10))]
    ws = free_windows(DAY, WITH_LUNCH, jobs, [], line, start_location=x(0), min_minutes=1)
    # 12:50–13:00 and 14:00–14:10 are both needed for the 20 minute drive: nothing free in between
    assert all(w.after_job != "A" or w.before_job != "B" for w in ws)


def _day(jobs=(), busy=(), hours=NINE_SIX, home=x(0), end=None):  # noqa: B008 - x(0) is an immutable tuple
    return WorkerDay(Worker("w1", "Петров", hours, home, end), DAY, tuple(jobs), tuple(busy))


def test_insertion_into_an_empty_day(line):
    [ins] = insertion_options(_day(), Job("N", x(10), 60), line)
    assert ins.arrival == at(9, 10) and ins.end == at(10, 10)
    assert ins.extra_minutes == 10 and ins.position == 0
    [ins] = insertion_options(_day(end=x(0)), Job("N", x(10), 60), line)
    assert ins.extra_minutes == 20


def test_insertion_between_jobs_costs_only_the_detour(line):
    wd = _day([Job("A", x(0), 60, at(10)), Job("B", x(30), 60, at(15))])
    options = insertion_options(wd, Job("N", x(10), 60), line)
    best = options[0]
    assert (best.after_job, best.before_job, best.position) == ("A", "B", 1)
    assert best.extra_minutes == 0 and best.arrival == at(11, 10)
    assert best.drive_in == 10 and best.drive_out == 20
    assert [o.extra_minutes for o in options] == sorted(o.extra_minutes for o in options)


def test_clients_wish_and_the_next_job_are_respected(line):
    wd = _day([Job("A", x(0), 60, at(10)), Job("B", x(30), 60, at(15))])
    after_two = Job("N", x(10), 60, arrive_between=(time(14), time(17)))
    options = insertion_options(wd, after_two, line)
    # 14:00 + 60 min + 20 min drive would make B late, so it only fits after B
    assert [(o.after_job, o.arrival) for o in options] == [("B", at(16, 20))]
    too_late = Job("N", x(10), 60, arrive_between=(time(17, 30), time(19)))
    assert insertion_options(wd, too_late, line) == []


def test_a_job_is_not_split_by_lunch_and_arrivals_are_on_the_grid(line):
    wd = _day([Job("A", x(0), 60, at(11))], hours=WITH_LUNCH)
    options = insertion_options(wd, Job("N", x(7), 90), line)
    after_a = [o for o in options if o.after_job == "A"]
    assert after_a[0].arrival == at(14)  # 12:07 would run into lunch
    [first] = [o for o in options if o.after_job is None]
    assert first.arrival == at(9, 10)  # 9:07 rounded up to the 5 minute grid
    [first] = [o for o in insertion_options(wd, Job("N", x(7), 30), line, round_to_min=15) if o.after_job is None]
    assert first.arrival == at(9, 15)


def test_subtract_handles_overlapping_and_outside_cuts():
    day = [(at(9), at(18))]
    assert subtract(day, [(at(7), at(10)), (at(12), at(13)), (at(12, 30), at(14)), (at(17), at(20))]) == [
        (at(10), at(12)), (at(14), at(17))]
