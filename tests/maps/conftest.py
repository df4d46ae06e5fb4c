"""Helpers for maps tests: a travel model on a straight line where 1 unit of distance = 1 minute."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest

DAY = date(2025, 5, 14)  # a Wednesday


class LineTravel:
    """Points are (0, x): driving minutes are |x1 − x2|, so expected times are easy to read."""

    def minutes(self, a, b):
        return abs(a[0] - b[0]) + abs(a[1] - b[1])

    def matrix(self, points):
        return [[self.minutes(a, b) for b in points] for a in points]


def at(h: int, m: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m))


def x(v: float) -> tuple[float, float]:
    return (0.0, float(v))


@pytest.fixture
def line():
    return LineTravel()
