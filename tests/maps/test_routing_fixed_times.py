"""VROOM and OR-Tools against a brute force over every order when some stops have agreed times and the
shift has an end (issue 4 audit: the day route must respect fixed times). The brute force is written
here with itertools, independent of ``routing.exact_order``, and uses the module's own ``simulate``
so "feasible" means the same thing for all three."""
from __future__ import annotations

import itertools
import math
import random
from datetime import datetime, timedelta

import pytest

from maps.geo import TravelModel
from maps.routing import _Problem, _window, optimise_day, simulate
from maps.schedule import Job

DEPART = datetime(2025, 5, 14, 9, 0)
HOME = (55.75, 37.60)
MOSCOW = TravelModel()


def _day(seed: int, n: int):
    rng = random.Random(seed)
    stops = [Job(f"s{i}", (55.62 + rng.random() * 0.26, 37.42 + rng.random() * 0.4), rng.choice([20, 30, 45]))
             for i in range(n)]
    # agreed times that some order can meet: walk a random order, book two or three of its stops where
    # that walk puts them (rounded up to 15 minutes, as a dispatcher books)
    walk = rng.sample(stops, n)
    t, loc, fixed = DEPART, HOME, {}
    picked = set(rng.sample(range(n), rng.choice([2, 3])))
    for k, s in enumerate(walk):
        t += timedelta(minutes=MOSCOW.minutes(loc, s.location))
        if k in picked:
            t = DEPART + timedelta(minutes=15 * math.ceil((t - DEPART).total_seconds() / 900))
            fixed[s.id] = t
        t += timedelta(minutes=s.duration_min)
        loc = s.location
    back = MOSCOW.minutes(loc, HOME)                 # enough for the closed variant to drive home too
    return stops, fixed, t + timedelta(minutes=back + 30)


def brute_force(stops, fixed, finish_by, end=None):
    """(served, drive) of the best order over every subset and permutation."""
    points = [HOME] + [s.location for s in stops] + ([end] if end else [])
    p = _Problem(MOSCOW.matrix(points), [0.0] + [float(s.duration_min) for s in stops],
                 [None] + [_window(fixed.get(s.id), DEPART, 0) for s in stops],
                 len(points) - 1 if end else None, (finish_by - DEPART).total_seconds() / 60)
    best = (0, 0.0)
    for r in range(1, len(stops) + 1):
        for order in itertools.permutations(range(1, len(stops) + 1), r):
            sim = simulate(p, order)
            if sim is not None and (r, -sim[2]) > (best[0], best[1] + 1e-6):
                best = (r, -sim[2])
    return best[0], -best[1]


@pytest.mark.parametrize("engine", ["vroom", "ortools"])
@pytest.mark.parametrize("seed,n,closed", [(1, 5, False), (2, 6, True), (3, 6, False), (4, 7, False),
                                           (5, 7, True), (6, 5, True)])
def test_engines_equal_brute_force_with_fixed_times(engine, seed, n, closed):
    stops, fixed, finish_by = _day(seed, n)
    end = HOME if closed else None
    served, drive = brute_force(stops, fixed, finish_by, end)
    assert served == n                     # the generator guarantees a feasible full day
    r = optimise_day(HOME, stops, fixed, MOSCOW, depart_at=DEPART, end=end, finish_by=finish_by,
                     engine=engine, time_limit_s=0.5)
    assert r.engine == engine and not r.unassigned
    assert r.drive_minutes == pytest.approx(drive, abs=0.1)    # solvers round legs to whole seconds
    for sid, at in fixed.items():
        assert r.starts[sid] == at          # agreed times kept exactly
    assert r.finish <= finish_by
    times = [r.starts[s] for s in r.order if s in fixed]
    assert times == sorted(times)


@pytest.mark.parametrize("engine", ["exact", "vroom", "ortools"])
def test_shift_end_drops_what_does_not_fit_like_brute_force(engine):
    stops, fixed, finish_by = _day(8, 6)
    tight = finish_by - timedelta(minutes=90)
    served, drive = brute_force(stops, fixed, tight)
    assert served < len(stops)
    r = optimise_day(HOME, stops, fixed, MOSCOW, depart_at=DEPART, finish_by=tight, engine=engine, time_limit_s=0.5)
    assert len(r.order) == served and r.drive_minutes == pytest.approx(drive, abs=0.1)
    assert r.finish <= tight
