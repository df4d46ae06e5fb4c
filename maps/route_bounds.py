"""Yardsticks for the day-route engines, so the bench can say how far a route is from the best possible.

- ``exact_drive``: the true optimum (every stop served, least driving) by dynamic programming over
  (visited set, last stop) with Pareto labels (driving, clock) — exact with fixed times, waiting and a
  shift end; 2^n·n² work, fine up to ~13 stops.
- ``one_tree_bound``: the Held–Karp Lagrangian 1-tree lower bound of a closed tour (symmetric matrix),
  for days too big for the DP (25 stops). Any multipliers give a valid bound; subgradient ascent only
  makes it tighter. With fixed times the bound is taken with the times relaxed, so it is still a lower
  bound, only a looser one.
"""
from __future__ import annotations

from typing import Sequence

from maps.routing import _EPS, _Problem


def exact_drive(p: _Problem) -> float | None:
    """Least driving of a route serving every stop (returning to ``end_index`` if set); None if none fits."""
    n = p.n
    full = (1 << n) - 1
    labels: dict[tuple[int, int], list[tuple[float, float]]] = {(0, 0): [(0.0, 0.0)]}
    best = None
    for mask in range(full + 1):
        for last in range(n + 1):
            here = labels.pop((mask, last), None)
            if not here:
                continue
            if mask == full:
                back = p.matrix[last][p.end_index] if p.end_index is not None else 0.0
                for drive, t in here:
                    if t + back <= p.horizon + _EPS and (best is None or drive + back < best):
                        best = drive + back
                continue
            for s in range(1, n + 1):
                bit = 1 << (s - 1)
                if mask & bit:
                    continue
                w = p.windows[s]
                out = labels.setdefault((mask | bit, s), [])
                for drive, t in here:
                    leg = p.matrix[last][s]
                    arrive = t + leg
                    if w is not None:
                        if arrive > w[1] + _EPS:
                            continue
                        arrive = max(arrive, w[0])
                    done = arrive + p.service[s]
                    if done > p.horizon + _EPS:
                        continue
                    _add_pareto(out, (drive + leg, done))
    return best


def _add_pareto(labels: list[tuple[float, float]], new: tuple[float, float]) -> None:
    for old in labels:
        if old[0] <= new[0] + _EPS and old[1] <= new[1] + _EPS:
            return
    labels[:] = [o for o in labels if not (new[0] <= o[0] + _EPS and new[1] <= o[1] + _EPS)]
    labels.append(new)


def one_tree_bound(matrix: Sequence[Sequence[float]], upper: float, iterations: int = 400) -> float:
    """A lower bound on the shortest closed tour through every node of a symmetric ``matrix``.

    ``upper`` (any tour's length, e.g. the best an engine found) only sets the subgradient step size."""
    n = len(matrix)
    if n <= 2:
        return sum(matrix[0][j] + matrix[j][0] for j in range(1, n))
    pi = [0.0] * n
    best, lam, stale = float("-inf"), 2.0, 0
    for _ in range(iterations):
        value, degree = _one_tree(matrix, pi)
        bound = value - 2 * sum(pi)
        if bound > best + 1e-9:
            best, stale = bound, 0
        else:
            stale += 1
            if stale >= 20:
                lam, stale = lam / 2, 0
        g = [d - 2 for d in degree]
        norm = sum(x * x for x in g)
        if norm == 0:                 # the 1-tree is a tour: the bound is the optimum
            return bound
        step = lam * max(upper - bound, 1e-6) / norm
        pi = [a + step * b for a, b in zip(pi, g)]
        if lam < 1e-5:
            break
    return best


def _one_tree(m: Sequence[Sequence[float]], pi: list[float]) -> tuple[float, list[int]]:
    """Minimum spanning tree on nodes 1..n−1 (Prim) plus node 0's two cheapest edges, on c_ij + π_i + π_j."""
    n = len(m)
    cost = lambda i, j: m[i][j] + pi[i] + pi[j]  # noqa: E731
    degree = [0] * n
    inside = [False] * n
    near = [float("inf")] * n
    parent = [-1] * n
    near[1] = 0.0
    total = 0.0
    for _ in range(n - 1):
        u = min((v for v in range(1, n) if not inside[v]), key=lambda v: near[v])
        inside[u] = True
        if parent[u] >= 0:
            total += near[u]
            degree[u] += 1
            degree[parent[u]] += 1
        for v in range(1, n):
            if not inside[v]:
                c = cost(u, v)
                if c < near[v]:
                    near[v], parent[v] = c, u
    a, b = sorted(range(1, n), key=lambda v: cost(0, v))[:2]
    total += cost(0, a) + cost(0, b)
    degree[0] = 2
    degree[a] += 1
    degree[b] += 1
    return total, degree
