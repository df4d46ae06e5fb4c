from datetime import time, timedelta

from maps.dispatch import best_slots, day_route, rank_candidates, swap_preview, transliterate
from maps.geo import TravelModel
from maps.schedule import Job, Worker, WorkerDay, WorkingHours
from tests.maps.conftest import DAY, at, x

KM_LAT = 1 / 111.195  # degrees of latitude per km
CLIENT = (55.75, 37.60)


def north(km, of=CLIENT):
    return (of[0] + km * KM_LAT, of[1])


def test_nearby_worker_wins_and_unfit_worker_is_last():
    moscow = TravelModel()  # ×1.3 road factor, 25 km/h, 5 min parking
    hours = WorkingHours(time(9), time(18))
    petrov = Worker("p", "Петров", hours, start_location=north(15))
    ivanov = Worker("i", "Иванов", hours, start_location=north(6))
    sidorov = Worker("s", "Сидоров", hours, start_location=north(0.5))
    days = [
        WorkerDay(sidorov, DAY, busy=((at(8), at(19)),)),  # on sick leave in the B24 calendar
        WorkerDay(ivanov, DAY),
        # Petrov measures 1.2 km from the client until 14:00; his morning is taken by a meeting
        WorkerDay(petrov, DAY, jobs=(Job("J1", north(1.2), 60, at(13)),), busy=((at(9), at(13)),)),
    ]
    ranked = rank_candidates(Job("NEW", CLIENT, 45), days, moscow)
    assert [c.worker.id for c in ranked] == ["p", "i", "s"]
    first = ranked[0]
    # 1.2 km × 1.3 ÷ 25 km/h = 3.7 min + 5 min parking → +9 min; arrival 14:08:45 → 14:10
    assert first.reason_ru == "Петров будет в 1,2 км в 14:00, +9 мин; у клиента в 14:10"
    assert first.reason_en == "Petrov will be 1.2 km away at 14:00, +9 min; at the client at 14:10"
    assert first.insertion.arrival == at(14, 10)
    assert ranked[1].reason_ru == "Иванов: 6,0 км от точки выезда, +24 мин; у клиента в 09:25"
    assert ranked[1].reason("en") == "Ivanov: 6.0 km from the start point, +24 min; at the client at 09:25"
    assert not ranked[2].fits and ranked[2].extra_minutes is None
    assert ranked[2].reason_ru == "Сидоров: нет свободного окна 14.05"
    assert ranked[2].reason_en == "Sidorov: no free window on 14 May"


def test_day_off_reason_and_english_name_override(line):
    w = Worker("k", "Ковалёв", WorkingHours(weekdays=frozenset({0, 1})), x(0), name_en="Kovalev")
    [c] = rank_candidates(Job("N", x(5), 30), [WorkerDay(w, DAY)], line)
    assert (c.reason_ru, c.reason_en) == ("Ковалёв: выходной 14.05", "Kovalev: day off on 14 May")


def test_agreed_time_is_tested_exactly(line):
    hours = WorkingHours(time(9), time(18))
    near_but_busy = WorkerDay(Worker("a", "Антонов", hours, x(0)), DAY, (Job("A", x(11), 60, at(10, 30)),))
    far_but_free = WorkerDay(Worker("b", "Борисов", hours, x(40)), DAY)
    other_date = WorkerDay(Worker("c", "Васильев", hours, x(10)), DAY + timedelta(days=1))
    job = Job("N", x(10), 60, start=at(11))
    ranked = rank_candidates(job, [near_but_busy, far_but_free, other_date], line)
    assert [(c.worker.id, c.fits) for c in ranked] == [("b", True), ("a", False)]
    assert ranked[0].insertion.arrival == at(11)


def test_transliteration():
    assert transliterate("Петров") == "Petrov"
    assert transliterate("Щукин Юрий") == "Shchukin Yuriy"


def test_swap_to_the_worker_next_door_saves_driving_and_clash_is_shown(line):
    hours = WorkingHours(time(9), time(18))
    a = WorkerDay(Worker("a", "A", hours, x(0), x(0)), DAY, (Job("A1", x(5), 60, at(10)), Job("A2", x(50), 60, at(14))))
    b = WorkerDay(Worker("b", "B", hours, x(60), x(60)), DAY, (Job("B1", x(55), 60, at(11)),))
    p = swap_preview(a.jobs[1], a, b, line)
    assert p.before_a.drive_minutes == 100 and p.after_a.drive_minutes == 10
    assert p.before_b.drive_minutes == 10 and p.after_b.drive_minutes == 20
    assert p.extra_minutes == -80 and p.ok
    assert [s.job_id for s in p.after_b.stops] == ["B1", "A2"]

    clash = WorkerDay(b.worker, DAY, (Job("B1", x(55), 120, at(13, 30)),))
    p = swap_preview(a.jobs[1], a, clash, line)
    assert not p.ok and p.after_b.overlaps == (("B1", "A2"),)


def test_swap_exchange_and_lateness(line):
    hours = WorkingHours(time(9), time(18))
    a = WorkerDay(Worker("a", "A", hours, x(0)), DAY, (Job("A1", x(0), 60, at(10)), Job("A2", x(50), 60, at(11, 30))))
    assert day_route(a, line).late_minutes == 20  # leaves at 11:00, 50 min drive, due at 11:30
    b = WorkerDay(Worker("b", "B", hours, x(50)), DAY, (Job("B1", x(1), 60, at(11, 30)),))
    p = swap_preview(a.jobs[1], a, b, line, give_back=b.jobs[0])
    assert [s.job_id for s in p.after_a.stops] == ["A1", "B1"] and p.after_a.late_minutes == 0
    assert [s.job_id for s in p.after_b.stops] == ["A2"] and p.ok


def test_best_slots_prefers_the_empty_nearby_day(line):
    hours = WorkingHours(time(9), time(18), weekdays=frozenset({0, 1, 2, 3}))
    near = Worker("n", "Ближний", hours, x(0))
    far = Worker("f", "Дальний", hours, x(100))
    days = [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]  # Wed, Thu, Fri (day off)
    full = tuple(Job(f"J{h}", x(0), 60, at(h)) for h in range(9, 18))
    half = tuple(Job(f"H{h}", x(0), 60, at(h, day=DAY + timedelta(days=1))) for h in range(9, 13))
    load = {("n", DAY): WorkerDay(near, DAY, full), ("n", days[1]): WorkerDay(near, days[1], half)}
    grid = best_slots(Job("N", x(5), 120), [near, far], days, line, load)
    assert grid.cell("n", DAY).insertion is None and grid.cell("n", DAY).load == 1.0
    assert grid.cell("n", days[2]).load is None and grid.cell("f", days[2]).score is None
    best = grid.best[0]
    assert (best.worker.id, best.day) == ("n", days[1]) and best.insertion.arrival == at(13, 15, days[1])
    assert [(s.worker.id, s.day) for s in grid.best] == [("n", days[1]), ("f", DAY), ("f", days[1])]
    assert len(grid.cells) == 6
