"""The bench's yardsticks are right: the DP optimum equals the exhaustive search of maps.routing on small
days (with and without fixed times), and the 1-tree bound never exceeds the optimum."""
from __future__ import annotations

from datetime import timedelta

import pytest

from maps.route_bounds import exact_drive, one_tree_bound
from maps.routing import _Problem, _window, optimise_day
from tests.maps.test_routing import DEPART, HOME, MOSCOW, random_day


def _problem(stops, fixed=None, end=True, finish_by=None):
    fixed = fixed or {}
    points = [HOME] + [s.location for s in stops] + ([HOME] if end else [])
    return _Problem(MOSCOW.matrix(points), [0.0] + [float(s.duration_min) for s in stops],
                    [None] + [_window(fixed.get(s.id), DEPART, 0) for s in stops],
                    len(points) - 1 if end else None,
                    (finish_by - DEPART).total_seconds() / 60 if finish_by else 7 * 24 * 60.0)


@pytest.mark.parametrize("seed,n,end,timed", [(1, 5, True, False), (2, 6, False, False), (3, 7, True, True),
                                              (4, 7, False, True), (5, 8, True, False)])
def test_dp_equals_exhaustive_search(seed, n, end, timed):
    stops = random_day(seed, n)
    fixed = {stops[1].id: DEPART + timedelta(hours=2), stops[3].id: DEPART + timedelta(hours=5)} if timed else None
    exact = optimise_day(HOME, stops, fixed, MOSCOW, depart_at=DEPART, end=HOME if end else None, engine="exact")
    assert not exact.unassigned
    assert exact_drive(_problem(stops, fixed, end)) == pytest.approx(exact.drive_minutes, abs=1e-6)


def test_dp_says_when_nothing_serves_everyone():
    stops = random_day(9, 5)
    assert exact_drive(_problem(stops, finish_by=DEPART + timedelta(minutes=30))) is None


@pytest.mark.parametrize("seed,n", [(1, 6), (2, 8), (3, 9), (6, 9)])
def test_one_tree_bound_is_below_the_optimum(seed, n):
    stops = random_day(seed, n)
    p = _problem(stops)
    opt = exact_drive(p)
    m = [row[:-1] for row in p.matrix[:-1]]           # home and the stops; the end node is home again
    bound = one_tree_bound(m, upper=opt * 1.1)
    assert bound <= opt + 1e-6
    assert bound >= 0.8 * opt                          # and it is a useful bound, not zero
