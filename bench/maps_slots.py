"""Installation date picker: best_slots over 20 workers × 14 days, plus ranking and free windows."""
from __future__ import annotations

import random
import time
from datetime import date, datetime, time as dtime, timedelta

from maps.dispatch import best_slots, rank_candidates
from maps.geo import TravelModel
from maps.schedule import Job, Worker, WorkerDay, WorkingHours, worker_windows

TITLE = "Slot search: 20 workers × 14 days, 2–5 booked jobs per working day (haversine travel model)"
START = date(2025, 5, 12)


def _point(rng):
    return (55.58 + rng.random() * 0.34, 37.38 + rng.random() * 0.48)


def _load(rng, workers, days):
    load = {}
    for w in workers:
        for d in days:
            if not w.hours.intervals(d):
                continue
            jobs, t = [], datetime.combine(d, dtime(9, 30))
            for k in range(rng.randint(2, 5)):
                dur = rng.choice([60, 90, 120])
                jobs.append(Job(f"{w.id}-{d:%m%d}-{k}", _point(rng), dur, t))
                t += timedelta(minutes=dur + rng.choice([30, 60, 90]))
            load[(w.id, d)] = WorkerDay(w, d, tuple(jobs))
    return load


def run() -> None:
    rng = random.Random(7)
    travel = TravelModel()
    hours = WorkingHours(dtime(9), dtime(19), breaks=((dtime(13), dtime(14)),), weekdays=frozenset(range(6)))
    workers = [Worker(f"w{i}", f"Монтажник {i}", hours, _point(rng), _point(rng)) for i in range(20)]
    days = [START + timedelta(days=i) for i in range(14)]
    load = _load(rng, workers, days)
    job = Job("NEW", _point(rng), 120)
    print("| operation | cells | fitting | seconds |")
    print("|---|---|---|---|")
    t = time.perf_counter()
    grid = best_slots(job, workers, days, travel, load)
    dt = time.perf_counter() - t
    print(f"| best_slots (120 min job) | {len(grid.cells)} | {len(grid.best)} | {dt:.3f} |")
    t = time.perf_counter()
    windows = sum(len(worker_windows(wd, travel)) for wd in load.values())
    dt = time.perf_counter() - t
    print(f"| free windows of every worker-day | {len(load)} | {windows} windows | {dt:.3f} |")
    day = days[2]
    t = time.perf_counter()
    ranked = rank_candidates(Job("N2", _point(rng), 60),
                             [load.get((w.id, day)) or WorkerDay(w, day) for w in workers], travel)
    dt = time.perf_counter() - t
    print(f"| rank_candidates, one day | {len(ranked)} | {sum(c.fits for c in ranked)} | {dt:.3f} |")


if __name__ == "__main__":
    run()
