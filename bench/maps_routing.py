"""One worker's day: solve time and driving of pyvroom and OR-Tools, and how far they are from the best
possible — on 25 stops against a Held–Karp 1-tree lower bound (so the gap is an upper bound on the true
gap: "≤ X %"), on 12 stops against the exact optimum by dynamic programming (maps.route_bounds)."""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from maps.geo import TravelModel
from maps.route_bounds import exact_drive, one_tree_bound
from maps.routing import _Problem, _window, optimise_day
from maps.schedule import Job

TITLE = ("Route of one worker's day, 25 stops (Moscow box, haversine × 1.3 at 25 km/h + 5 min parking, "
         "10–20 min per stop, back home)")
DEPART = datetime(2025, 5, 14, 8, 0)
HOME = (55.75, 37.62)


def _instance(seed: int, fixed: int, n: int = 25):
    rng = random.Random(seed)
    stops = [Job(f"s{i}", (55.58 + rng.random() * 0.34, 37.38 + rng.random() * 0.48), rng.choice([10, 15, 20]))
             for i in range(n)]
    times = {}
    for k, s in enumerate(rng.sample(stops, fixed)):
        times[s.id] = DEPART + timedelta(hours=1 + 2 * k)
    return stops, times


RUNS = [
    ("auto (what the app runs)", dict(engine="auto", time_limit_s=2.0)),
    ("vroom x=1", dict(engine="vroom", exploration_level=1)),
    ("vroom x=5", dict(engine="vroom", exploration_level=5)),
    ("OR-Tools GLS 1 s", dict(engine="ortools", time_limit_s=1.0)),
    ("OR-Tools GLS 5 s", dict(engine="ortools", time_limit_s=5.0)),
    ("OR-Tools GLS 20 s (long run)", dict(engine="ortools", time_limit_s=20.0)),
]


SMALL_RUNS = RUNS[:4]


def _problem(stops, times, travel, relax_times=False) -> _Problem:
    points = [HOME] + [s.location for s in stops] + [HOME]
    return _Problem(travel.matrix(points), [0.0] + [float(s.duration_min) for s in stops],
                    [None] + [None if relax_times else _window(times.get(s.id), DEPART, 0) for s in stops],
                    len(points) - 1, 7 * 24 * 60.0)


def _table(case, n, results, reference, kind):
    for name, dt, r in results:
        if len(r.order) < n:
            gap = "— (fewer stops)"
        else:
            pct = max(0.0, (r.drive_minutes - reference) / reference * 100)   # whole-second rounding
            gap = f"≤ {pct:.1f}" if kind == "bound" else f"{pct:.1f}"
        print(f"| {case} | {name} | {dt:.3f} | {len(r.order)}/{n} | {r.drive_minutes:.0f} | {reference:.0f} ({kind}) "
              f"| {gap} |")


def run() -> None:
    travel = TravelModel()
    optimise_day(HOME, _instance(0, 0)[0][:5], travel=travel, depart_at=DEPART, engine="vroom")  # import/warm-up
    print("| case | engine | seconds | stops served | driving, min | reference, min | gap, % |")
    print("|---|---|---|---|---|---|---|")
    for case, seed, fixed in [("25 stops, no fixed times", 1, 0), ("25 stops, 5 fixed times", 2, 5)]:
        stops, times = _instance(seed, fixed)
        results = []
        for name, kw in RUNS:
            t = time.perf_counter()
            r = optimise_day(HOME, stops, times, travel, depart_at=DEPART, end=HOME, **kw)
            results.append((name, time.perf_counter() - t, r))
        best = min(r.drive_minutes for _, _, r in results if len(r.order) == len(stops))
        p = _problem(stops, times, travel, relax_times=True)          # times relaxed: still a lower bound
        t = time.perf_counter()
        bound = one_tree_bound([row[:-1] for row in p.matrix[:-1]], upper=best, iterations=1500)
        bound_s = time.perf_counter() - t
        _table(case + (" (bound with times relaxed)" if fixed else ""), len(stops), results, bound, "bound")
        print(f"| {case} | 1-tree lower bound | {bound_s:.3f} | — | — | {bound:.0f} | — |")
    for case, seed, fixed in [("12 stops, no fixed times", 3, 0), ("12 stops, 3 fixed times", 4, 3)]:
        stops, times = _instance(seed, fixed, n=12)
        results = []
        for name, kw in SMALL_RUNS:
            t = time.perf_counter()
            r = optimise_day(HOME, stops, times, travel, depart_at=DEPART, end=HOME, **kw)
            results.append((name, time.perf_counter() - t, r))
        t = time.perf_counter()
        opt = exact_drive(_problem(stops, times, travel))
        dp_s = time.perf_counter() - t
        _table(case, len(stops), results, opt, "optimum")
        print(f"| {case} | exact DP | {dp_s:.3f} | 12/12 | {opt:.0f} | {opt:.0f} (optimum) | 0.0 |")


if __name__ == "__main__":
    run()
