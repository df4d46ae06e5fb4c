"""CP-SAT on the 25-stop routes of ``bench.maps_routing``: can it prove the app's route optimal?

A circuit over home + the stops (arc literals, ``AddCircuit``), start-of-work variables with
``T_j ≥ T_i + service_i + travel_ij`` enforced by the arc i→j, agreed times as zero-width windows; minutes
× 100 as integers (so the optimum is known to 0.01 min). Prints the app's driving ("auto", what
/api/maps/route runs), CP-SAT's best route, its proven bound and status.

    python -m bench route_cpsat          # BENCH_CPSAT_SECONDS=120, 2 workers (the box has 2 cores)
"""
from __future__ import annotations

import os
import time

from ortools.sat.python import cp_model

from bench.maps_routing import DEPART, HOME, _instance, _problem
from maps.geo import TravelModel
from maps.routing import optimise_day

TITLE = "CP-SAT on the 25-stop day routes: is the app's route proven optimal?"
SCALE = 100
LIMIT = float(os.environ.get("BENCH_CPSAT_SECONDS", "120"))


def prove(p, limit: float = LIMIT, workers: int = 2) -> tuple[str, float, float, float]:
    """(status, best driving, proven lower bound, seconds)."""
    def w(x: float) -> int:
        return int(round(x * SCALE))

    n = p.n
    m = cp_model.CpModel()
    start = [m.NewIntVar(0, w(p.horizon), f"t{i}") for i in range(n + 1)]
    m.Add(start[0] == 0)
    for i in range(1, n + 1):
        if p.windows[i] is not None:
            lo, hi = p.windows[i]
            m.Add(start[i] >= w(lo))
            m.Add(start[i] <= w(hi))
    arcs, cost = [], []
    for i in range(n + 1):
        for j in range(n + 1):
            if i == j:
                continue
            lit = m.NewBoolVar(f"a{i}_{j}")
            arcs.append((i, j, lit))
            if j == 0:                                   # back home: the route's end
                cost.append(w(p.matrix[i][p.end_index]) * lit)
            else:
                cost.append(w(p.matrix[i][j]) * lit)
                m.Add(start[j] >= start[i] + w(p.service[i]) + w(p.matrix[i][j])).OnlyEnforceIf(lit)
    m.AddCircuit(arcs)
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
    print("| case | app (auto), min | CP-SAT best, min | CP-SAT bound, min | status | seconds |")
    print("|---|---|---|---|---|---|")
    for case, seed, fixed in [("25 stops, no fixed times", 1, 0), ("25 stops, 5 fixed times", 2, 5)]:
        stops, times = _instance(seed, fixed)
        r = optimise_day(HOME, stops, times, travel, depart_at=DEPART, end=HOME, engine="auto", time_limit_s=2.0)
        status, best, bound, dt = prove(_problem(stops, times, travel))
        print(f"| {case} | {r.drive_minutes:.2f} | {best:.2f} | {bound:.2f} | {status} | {dt:.1f} |")


if __name__ == "__main__":
    run()
