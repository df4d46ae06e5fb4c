"""One worker's 25-stop day: solve time and driving of pyvroom and OR-Tools against the best found."""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from maps.geo import TravelModel
from maps.routing import optimise_day
from maps.schedule import Job

TITLE = "Route of one worker's day, 25 stops (Moscow box, haversine × 1.3 at 25 km/h + 5 min parking, 10–20 min per stop, back home)"
DEPART = datetime(2025, 5, 14, 8, 0)
HOME = (55.75, 37.62)


def _instance(seed: int, fixed: int):
    rng = random.Random(seed)
    stops = [Job(f"s{i}", (55.58 + rng.random() * 0.34, 37.38 + rng.random() * 0.48), rng.choice([10, 15, 20]))
             for i in range(25)]
    times = {}
    for k, s in enumerate(rng.sample(stops, fixed)):
        times[s.id] = DEPART + timedelta(hours=1 + 2 * k)
    return stops, times


RUNS = [
    ("vroom x=1", dict(engine="vroom", exploration_level=1)),
    ("vroom x=5", dict(engine="vroom", exploration_level=5)),
    ("OR-Tools GLS 1 s", dict(engine="ortools", time_limit_s=1.0)),
    ("OR-Tools GLS 5 s", dict(engine="ortools", time_limit_s=5.0)),
    ("OR-Tools GLS 20 s (long run)", dict(engine="ortools", time_limit_s=20.0)),
]


def run() -> None:
    travel = TravelModel()
    optimise_day(HOME, _instance(0, 0)[0][:5], travel=travel, depart_at=DEPART, engine="vroom")  # import/warm-up
    print("| case | engine | seconds | stops served | driving, min | gap to best found, % |")
    print("|---|---|---|---|---|---|")
    for case, seed, fixed in [("25 stops, no fixed times", 1, 0), ("25 stops, 5 fixed times", 2, 5)]:
        stops, times = _instance(seed, fixed)
        results = []
        for name, kw in RUNS:
            t = time.perf_counter()
            r = optimise_day(HOME, stops, times, travel, depart_at=DEPART, end=HOME, **kw)
            results.append((name, time.perf_counter() - t, r))
        served = max(len(r.order) for _, _, r in results)
        best = min(r.drive_minutes for _, _, r in results if len(r.order) == served)
        for name, dt, r in results:
            gap = f"{(r.drive_minutes - best) / best * 100:.1f}" if len(r.order) == served else "— (fewer stops)"
            print(f"| {case} | {name} | {dt:.3f} | {len(r.order)}/25 | {r.drive_minutes:.0f} | {gap} |")


if __name__ == "__main__":
    run()
