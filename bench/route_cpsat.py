"""CP-SAT on the 25-stop routes of ``bench.maps_routing``: is the app's route proven optimal?

Agreed times are zero-width windows (arrive by the time, wait, start then), and the other stops have none,
so a route is home → (free stops) → 1st agreed stop → (free stops) → 2nd … → last agreed stop → (free stops)
→ home, and waiting is only ever needed right before an agreed stop. The model is that: every free stop is
assigned to exactly one segment; each segment is a circuit (``AddCircuit``, a skipped stop takes its
self-loop) from its start to its end; a segment that must reach the next agreed time has a budget (the time
between the two agreed times less the first one's work) that its driving plus its stops' work must fit.
No time variables, so no big-M: the relaxation is tight enough for CP-SAT to close the gap.

Every leg is rounded DOWN to 1/1000 min, so CP-SAT's proven optimum is a valid lower bound on the true
(float) optimum — a shorter route would be shorter still with its legs rounded down. The gap printed is the
app's float driving against that bound.

    python -m bench route_cpsat          # BENCH_CPSAT_SECONDS=120, 2 workers (the box has 2 cores)
"""
from __future__ import annotations

import math
import os
import time

from ortools.sat.python import cp_model

from bench.maps_routing import DEPART, HOME, _instance, _problem
from maps.geo import TravelModel
from maps.routing import optimise_day

TITLE = "CP-SAT on the 25-stop day routes: is the app's route proven optimal?"
SCALE = 1000
LIMIT = float(os.environ.get("BENCH_CPSAT_SECONDS", "120"))


def _down(x: float) -> int:
    return math.floor(x * SCALE + 1e-9)


def prove(p, limit: float = LIMIT, workers: int = 2) -> tuple[str, float, float, float]:
    """(status, CP-SAT's best driving, proven lower bound on the true optimum, seconds)."""
    n, end = p.n, p.end_index
    fixed = sorted((i for i in range(1, n + 1) if p.windows[i] is not None), key=lambda i: p.windows[i][0])
    free = [i for i in range(1, n + 1) if p.windows[i] is None]
    starts, ends = [0] + fixed, fixed + [end]
    m = cp_model.CpModel()
    x = {(k, j): m.NewBoolVar(f"x{k}_{j}") for k in range(len(starts)) for j in free}
    for j in free:
        m.AddExactlyOne(x[k, j] for k in range(len(starts)))
    cost = []
    for k, (s, e) in enumerate(zip(starts, ends)):
        nodes = [None, *free]                          # node 0: the segment's start and end
        empty = m.NewBoolVar(f"empty{k}")             # no free stop in this segment: straight from s to e
        arcs, seg = [(0, 0, empty)], [_down(p.matrix[s][e]) * empty]
        for a, i in enumerate(nodes):
            for b, j in enumerate(nodes):
                if a == b:
                    if a:
                        arcs.append((a, a, x[k, i].Not()))
                    continue
                lit = m.NewBoolVar(f"a{k}_{a}_{b}")
                arcs.append((a, b, lit))
                seg.append(_down(p.matrix[s if a == 0 else i][e if b == 0 else j]) * lit)
        for j in free:                                 # the start/end is in the circuit whenever a stop is
            m.AddImplication(x[k, j], empty.Not())
        m.AddCircuit(arcs)
        cost += seg
        if k < len(fixed):                             # must be at the next agreed stop by its time
            budget = p.windows[e][0] - (p.windows[s][0] if s else 0.0) - p.service[s]
            m.Add(sum(seg) + sum(_down(p.service[j]) * x[k, j] for j in free) <= math.ceil(budget * SCALE))
    m.Minimize(sum(cost))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = workers
    t = time.perf_counter()
    status = solver.Solve(m)
    return (solver.StatusName(status), solver.ObjectiveValue() / SCALE, solver.BestObjectiveBound() / SCALE,
            time.perf_counter() - t)


def run() -> None:
    travel = TravelModel()
    print("| case | app (auto), min | CP-SAT best (legs rounded down), min | proven lower bound, min | status | "
          "app's gap to the bound | seconds |")
    print("|---|---|---|---|---|---|---|")
    for case, seed, fixed in [("25 stops, no fixed times", 1, 0), ("25 stops, 5 fixed times", 2, 5)]:
        stops, times = _instance(seed, fixed)
        r = optimise_day(HOME, stops, times, travel, depart_at=DEPART, end=HOME, engine="auto", time_limit_s=2.0)
        status, best, bound, dt = prove(_problem(stops, times, travel))
        gap = (r.drive_minutes - bound) / bound * 100
        print(f"| {case} | {r.drive_minutes:.3f} | {best:.3f} | {bound:.3f} | {status} | ≤ {gap:.3f} % | {dt:.1f} |")


if __name__ == "__main__":
    run()
