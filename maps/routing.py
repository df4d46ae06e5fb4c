"""Best order of one worker's stops for a day (a TSP with fixed-time stops).

VROOM (pyvroom) is the default engine: single-day problems of 10–30 stops solve in milliseconds with
the same travel as OR-Tools (geo reference, B3). OR-Tools is the fallback when the pyvroom wheel is not
installed, and an exact search over all orders (≤ 9 stops) is the yardstick the tests hold both to.
Every engine only proposes an order; the returned `Route` is always re-timed here with the float
matrix, so times and totals mean the same thing whichever engine ran.

Objective, as the solvers define it: serve as many stops as possible, then drive as little as possible.
A fixed-time stop (the client agreed on 14:00) starts exactly then, or up to `fixed_slack_min` later;
arriving early means waiting at the door.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from maps.geo import Travel, TravelModel
from maps.schedule import Job, Place

EXACT_MAX_STOPS = 9
_EPS = 1e-6


@dataclass(frozen=True)
class Route:
    order: tuple[str, ...]
    arrivals: dict[str, datetime]  # when the worker gets there
    starts: dict[str, datetime]  # when the work starts (later than arrival for a fixed time)
    drive_minutes: float
    total_minutes: float  # from leaving the start to the end of the day (driving, work and waiting)
    finish: datetime
    unassigned: tuple[str, ...]
    engine: str


def optimise_day(
    start: Place,
    stops: Sequence[Job],
    fixed_times: Mapping[str, datetime] | None = None,
    travel: Travel | None = None,
    *,
    depart_at: datetime,
    end: Place | None = None,
    finish_by: datetime | None = None,
    fixed_slack_min: float = 0,
    engine: str = "auto",
    exploration_level: int = 5,
    time_limit_s: float = 2.0,
) -> Route:
    """Order `stops` (each `Job` needs location and duration) leaving `start` at `depart_at`.

    `end` None means the day ends at the last stop (open route); `finish_by` is the end of the shift —
    stops that cannot be fitted before it, or whose fixed time cannot be met, come back as `unassigned`.
    `engine`: "auto" (pyvroom, else OR-Tools; OR-Tools as well when VROOM leaves a stop with agreed
    times out), "vroom", "ortools" or "exact".
    """
    travel = travel or TravelModel()
    fixed = dict(fixed_times or {})
    points = [start] + [s.location for s in stops] + ([end] if end is not None else [])
    problem = _Problem(
        matrix=travel.matrix(points),
        service=[0.0] + [float(s.duration_min) for s in stops],
        windows=[None] + [_window(fixed.get(s.id), depart_at, fixed_slack_min) for s in stops],
        end_index=len(points) - 1 if end is not None else None,
        horizon=(finish_by - depart_at).total_seconds() / 60 if finish_by else 7 * 24 * 60.0,
    )
    if not stops:
        order, used = [], "none"
    elif engine == "exact":
        order, used = exact_order(problem), "exact"
    elif engine == "ortools":
        order, used = _ortools_order(problem, time_limit_s), "ortools"
    elif engine in ("auto", "vroom"):
        try:
            order, used = _vroom_order(problem, exploration_level), "vroom"
        except ImportError:
            if engine == "vroom":
                raise
            order, used = _ortools_order(problem, time_limit_s), "ortools"
        if engine == "auto" and used == "vroom" and len(order) < problem.n and fixed:
            # zero-width agreed times are where VROOM's local search gives up a stop that fits (bench:
            # 11 of 12 served where 12 fit); OR-Tools is slower but inserts them — keep the better answer
            other = _ortools_order(problem, time_limit_s)
            if _better(problem, other, order):
                order, used = other, "ortools"
    else:
        raise ValueError(f"unknown engine {engine!r}")
    return _route(problem, order, stops, depart_at, used)


def _better(p: _Problem, a: list[int], b: list[int]) -> bool:
    """Does order ``a`` serve more stops (then drive less) than ``b``? Infeasible orders never win."""
    sa, sb = simulate(p, a), simulate(p, b)
    if sa is None:
        return False
    if sb is None:
        return True
    return (len(a), -sa[2]) > (len(b), -sb[2] + _EPS)


# --------------------------------------------------------------------------- shared model


@dataclass(frozen=True)
class _Problem:
    matrix: list[list[float]]  # minutes; index 0 = start, 1..n = stops, then the end if any
    service: list[float]
    windows: list[tuple[float, float] | None]  # allowed start of work, minutes after departure
    end_index: int | None
    horizon: float

    @property
    def n(self) -> int:
        return len(self.service) - 1


def _window(t: datetime | None, depart_at: datetime, slack: float) -> tuple[float, float] | None:
    if t is None:
        return None
    lo = (t - depart_at).total_seconds() / 60
    return (lo, lo + slack)


def simulate(p: _Problem, order: Sequence[int]) -> tuple[list[float], list[float], float, float] | None:
    """Arrival and start minutes, driving and finish for one order; None if a time is missed."""
    t = drive = 0.0
    loc = 0
    arrivals, starts = [], []
    for s in order:
        leg = p.matrix[loc][s]
        t += leg
        drive += leg
        arrivals.append(t)
        w = p.windows[s]
        if w is not None:
            if t > w[1] + _EPS:
                return None
            t = max(t, w[0])
        starts.append(t)
        t += p.service[s]
        loc = s
    if p.end_index is not None:
        leg = p.matrix[loc][p.end_index]
        t += leg
        drive += leg
    if t > p.horizon + _EPS:
        return None
    return arrivals, starts, drive, t


def exact_order(p: _Problem) -> list[int]:
    """Best order by depth-first search over every sequence of every subset (≈ e·n! steps)."""
    if p.n > EXACT_MAX_STOPS:
        raise ValueError(f"exact search is for at most {EXACT_MAX_STOPS} stops, got {p.n}")
    best: tuple[int, float] = (0, 0.0)  # (stops served, −driving)
    best_order: list[int] = []
    home_leg = (lambda loc: p.matrix[loc][p.end_index]) if p.end_index is not None else (lambda loc: 0.0)
    if home_leg(0) > p.horizon + _EPS:
        return []
    best = (0, -home_leg(0))

    def dfs(order: list[int], loc: int, t: float, drive: float) -> None:
        nonlocal best, best_order
        for s in range(1, p.n + 1):
            if s in order:
                continue
            leg = p.matrix[loc][s]
            arrive = t + leg
            w = p.windows[s]
            if w is not None:
                if arrive > w[1] + _EPS:
                    continue
                arrive = max(arrive, w[0])
            done = arrive + p.service[s]
            back = home_leg(s)
            if done + back > p.horizon + _EPS:
                continue
            order.append(s)
            key = (len(order), -(drive + leg + back))
            if key > (best[0], best[1] + _EPS):
                best, best_order = key, list(order)
            dfs(order, s, done, drive + leg)
            order.pop()

    dfs([], 0, 0.0, 0.0)
    return best_order


def _route(p: _Problem, order: list[int], stops: Sequence[Job], depart_at: datetime, engine: str) -> Route:
    sim = simulate(p, order)
    if sim is None:  # a heuristic's integer rounding made a tight fixed time slip: keep the feasible prefix
        while order and sim is None:
            order = order[:-1]
            sim = simulate(p, order)
    arrivals, starts, drive, finish = sim
    at = lambda minutes: depart_at + timedelta(minutes=minutes)  # noqa: E731
    ids = [stops[s - 1].id for s in order]
    served = set(order)
    return Route(
        order=tuple(ids),
        arrivals={i: at(a) for i, a in zip(ids, arrivals)},
        starts={i: at(s) for i, s in zip(ids, starts)},
        drive_minutes=drive,
        total_minutes=finish,
        finish=at(finish),
        unassigned=tuple(s.id for k, s in enumerate(stops, 1) if k not in served),
        engine=engine,
    )


# --------------------------------------------------------------------------- engines


def _seconds(minutes: float) -> int:
    return int(round(minutes * 60))


def _vroom_order(p: _Problem, exploration_level: int) -> list[int]:
    import vroom  # heavy optional solver (pyvroom): loaded only when a route asks for it

    inp = vroom.Input()
    inp.set_durations_matrix(profile="car", matrix_input=[[_seconds(v) for v in row] for row in p.matrix])
    inp.add_vehicle(vroom.Vehicle(id=0, start=0, end=p.end_index, profile="car",
                                  time_window=vroom.TimeWindow(0, _seconds(p.horizon))))
    jobs = []
    for s in range(1, p.n + 1):
        w = p.windows[s]
        if w is not None and w[1] < 0:
            continue  # the agreed time is already past: no engine can serve it
        tws = [vroom.TimeWindow(max(0, _seconds(w[0])), max(0, _seconds(w[1])))] if w else []
        jobs.append(vroom.Job(id=s, location=s, default_service=_seconds(p.service[s]), time_windows=tws))
    if not jobs:
        return []
    inp.add_job(jobs)
    solution = inp.solve(exploration_level=exploration_level, nb_threads=2)
    routes = solution.routes
    rows = routes[routes["type"] == "job"]
    return [int(i) for i in rows["id"]]


def _ortools_order(p: _Problem, time_limit_s: float) -> list[int]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # heavy (OR-Tools), on use

    size = len(p.matrix)
    end = p.end_index if p.end_index is not None else size  # open route: a free dummy end node
    nodes = size + (0 if p.end_index is not None else 1)
    manager = pywrapcp.RoutingIndexManager(nodes, 1, [0], [end])
    model = pywrapcp.RoutingModel(manager)

    def drive(i: int, j: int) -> int:
        return 0 if i >= size or j >= size else _seconds(p.matrix[i][j])

    def cost_cb(a: int, b: int) -> int:
        return drive(manager.IndexToNode(a), manager.IndexToNode(b))

    def time_cb(a: int, b: int) -> int:
        i, j = manager.IndexToNode(a), manager.IndexToNode(b)
        service = _seconds(p.service[i]) if 0 < i <= p.n else 0
        return drive(i, j) + service

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(cost_cb))
    horizon = _seconds(p.horizon)
    model.AddDimension(model.RegisterTransitCallback(time_cb), horizon, horizon, True, "time")
    dim = model.GetDimensionOrDie("time")
    penalty = 1000 * (sum(_seconds(max(row)) for row in p.matrix) + 1)  # serving beats any detour
    for s in range(1, p.n + 1):
        index = manager.NodeToIndex(s)
        w = p.windows[s]
        if w is not None:
            if w[1] < 0 or _seconds(w[0]) > horizon:     # past, or after the shift: never servable
                model.AddDisjunction([index], 0)
                model.ActiveVar(index).SetValue(0)     # emptying its time domain would fail the whole model
                continue
            dim.CumulVar(index).SetRange(max(0, _seconds(w[0])), min(horizon, _seconds(w[1])))
        model.AddDisjunction([index], penalty)
    params = pywrapcp.DefaultRoutingSearchParameters()
    # with agreed times the cheapest-arc start can paint itself into a corner and find no first solution
    # at all; insertion builds one stop by stop and leaves out what does not fit
    timed = any(w is not None for w in p.windows) or p.horizon < 7 * 24 * 60
    params.first_solution_strategy = (routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION if timed
                                      else routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC)
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    solution = model.SolveWithParameters(params)
    if solution is None:
        return []
    order, index = [], model.Start(0)
    while not model.IsEnd(index):
        node = manager.IndexToNode(index)
        if 0 < node <= p.n:
            order.append(node)
        index = solution.Value(model.NextVar(index))
    return order
