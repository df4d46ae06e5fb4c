import random
from datetime import datetime, timedelta

import pytest

from maps.geo import TravelModel
from maps.routing import optimise_day
from maps.schedule import Job

DEPART = datetime(2025, 5, 14, 9, 0)
HOME = (55.75, 37.60)
MOSCOW = TravelModel()


def random_day(seed: int, n: int):
    rng = random.Random(seed)
    return [Job(f"s{i}", (55.60 + rng.random() * 0.30, 37.40 + rng.random() * 0.45), rng.choice([20, 30, 45]))
            for i in range(n)]


@pytest.mark.parametrize("engine", ["vroom", "ortools"])
@pytest.mark.parametrize("seed,n", [(1, 4), (2, 5), (3, 6), (4, 7), (5, 7), (6, 7)])
def test_engines_find_the_exact_optimum(engine, seed, n):
    stops = random_day(seed, n)
    kw = dict(travel=MOSCOW, depart_at=DEPART, end=HOME if seed % 2 else None, time_limit_s=0.3)
    exact = optimise_day(HOME, stops, engine="exact", **kw)
    got = optimise_day(HOME, stops, engine=engine, **kw)
    assert got.engine == engine and not got.unassigned and sorted(got.order) == sorted(s.id for s in stops)
    # solvers work in whole seconds: allow the rounding of a handful of legs
    assert got.drive_minutes == pytest.approx(exact.drive_minutes, abs=0.1)


def test_exact_search_beats_visiting_in_the_given_order():
    stops = random_day(11, 7)
    exact = optimise_day(HOME, stops, travel=MOSCOW, depart_at=DEPART, engine="exact")
    naive = MOSCOW.minutes(HOME, stops[0].location) + sum(
        MOSCOW.minutes(a.location, b.location) for a, b in zip(stops, stops[1:]))
    assert exact.drive_minutes < naive


@pytest.mark.parametrize("engine", ["exact", "vroom", "ortools"])
def test_fixed_times_are_kept_and_timings_are_consistent(engine):
    stops = random_day(7, 6)
    fixed = {"s2": DEPART + timedelta(hours=1), "s4": DEPART + timedelta(hours=5)}
    r = optimise_day(HOME, stops, fixed, MOSCOW, depart_at=DEPART, end=HOME, engine=engine, time_limit_s=0.3)
    assert not r.unassigned
    assert r.starts["s2"] == fixed["s2"] and r.starts["s4"] == fixed["s4"]
    assert r.order.index("s2") < r.order.index("s4")
    for sid in r.order:
        assert r.arrivals[sid] <= r.starts[sid]
    free = optimise_day(HOME, stops, travel=MOSCOW, depart_at=DEPART, end=HOME, engine="exact")
    assert r.drive_minutes >= free.drive_minutes - 0.1  # fixed times can only cost driving


@pytest.mark.parametrize("engine", ["exact", "vroom", "ortools"])
def test_impossible_fixed_time_and_short_shift_leave_stops_unassigned(engine):
    far_a = Job("a", (55.60, 37.40), 30)
    far_b = Job("b", (55.90, 37.85), 30)
    near = Job("c", (55.751, 37.601), 30)
    same_time = {"a": DEPART + timedelta(hours=2), "b": DEPART + timedelta(hours=2)}
    r = optimise_day(HOME, [far_a, far_b, near], same_time, MOSCOW, depart_at=DEPART, engine=engine, time_limit_s=0.3)
    assert len(r.unassigned) == 1 and r.unassigned[0] in {"a", "b"} and "c" in r.order
    short = optimise_day(HOME, [far_a, far_b, near], None, MOSCOW, depart_at=DEPART,
                         finish_by=DEPART + timedelta(minutes=40), engine=engine, time_limit_s=0.3)
    assert short.order == ("c",) and set(short.unassigned) == {"a", "b"}
    assert short.finish <= DEPART + timedelta(minutes=40)


def test_empty_day():
    r = optimise_day(HOME, [], travel=MOSCOW, depart_at=DEPART)
    assert r.order == () and r.drive_minutes == 0 and r.finish == DEPART


def test_exact_refuses_big_days():
    with pytest.raises(ValueError):
        optimise_day(HOME, random_day(1, 10), travel=MOSCOW, depart_at=DEPART, engine="exact")
