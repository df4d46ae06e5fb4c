"""Free windows in a worker's day and where a new job fits into it.

The pattern every field-service suite uses (see the geo reference, section E): available time =
working hours − breaks − calendar busy time − booked jobs; between two consecutive places the worker
must be (home, jobs, home again) the drive between them is reserved at the end of the gap, and what
remains are the free windows. A new job is then tested against the *raw* gap, because inserting it
replaces the reserved drive with two drives (previous → new → next).

Conventions (documented because dispatchers will ask):
- the working day starts at home when a start location is known: the drive to the first job is
  working time, so a 9:00 shift has no window before a 9:00 job;
- breaks and calendar busy time have no place: the worker stays where the last job was;
- drives may be split around a break (leave before lunch, finish after), a job may not;
- a booked job outside working hours still decides where the worker is, but opens no window.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Iterable, Sequence

from maps.geo import Travel

Interval = tuple[datetime, datetime]
Place = tuple[float, float]


@dataclass(frozen=True)
class WorkingHours:
    """A worker's regular day: hours, breaks (lunch) and which weekdays (0 = Monday) are worked."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    breaks: tuple[tuple[time, time], ...] = ()
    weekdays: frozenset[int] = frozenset(range(5))
    tz: tzinfo | None = None

    def intervals(self, day: date) -> list[Interval]:
        """Working intervals of that date; empty on a day off."""
        if day.weekday() not in self.weekdays:
            return []
        shift = [(_at(day, self.start, self.tz), _at(day, self.end, self.tz))]
        return subtract(shift, [(_at(day, a, self.tz), _at(day, b, self.tz)) for a, b in self.breaks])


@dataclass(frozen=True)
class Job:
    """A measurement or installation: where, how long, and (once booked) when it starts.

    `arrive_between` is the client's wish for a job not booked yet ("только после 14:00").
    """

    id: str
    location: Place
    duration_min: float
    start: datetime | None = None
    title: str = ""
    arrive_between: tuple[time, time] | None = None

    @property
    def end(self) -> datetime | None:
        return None if self.start is None else self.start + timedelta(minutes=self.duration_min)


@dataclass(frozen=True)
class Worker:
    """A field worker's profile: the name shown to the dispatcher, hours and home base."""

    id: str
    name: str
    hours: WorkingHours = field(default_factory=WorkingHours)
    start_location: Place | None = None
    end_location: Place | None = None
    name_en: str = ""


@dataclass(frozen=True)
class WorkerDay:
    """One worker on one date with what is already booked (jobs) and blocked (calendar busy)."""

    worker: Worker
    day: date
    jobs: tuple[Job, ...] = ()
    busy: tuple[Interval, ...] = ()

    def booked(self) -> list[Job]:
        """Jobs that take place on this date, in time order."""
        lo, hi = _day_bounds(self.day, self.worker.hours.tz)
        return sorted((j for j in self.jobs if j.start is not None and j.start < hi and j.end > lo),
                      key=lambda j: (j.start, j.id))

    def with_job(self, job: Job) -> "WorkerDay":
        return replace(self, jobs=tuple(j for j in self.jobs if j.id != job.id) + (job,))

    def without_job(self, job_id: str) -> "WorkerDay":
        return replace(self, jobs=tuple(j for j in self.jobs if j.id != job_id))

    def shift_minutes(self) -> float:
        return sum(_minutes(a, b) for a, b in self.worker.hours.intervals(self.day))


@dataclass(frozen=True)
class Window:
    """Free time during which the worker waits at `origin`; at `end` he must leave for `destination`."""

    start: datetime
    end: datetime
    origin: Place | None
    destination: Place | None
    after_job: str | None
    before_job: str | None

    @property
    def minutes(self) -> float:
        return _minutes(self.start, self.end)


@dataclass(frozen=True)
class Insertion:
    """One place a new job fits: between `after_job` and `before_job` (None = home / end of day)."""

    worker_id: str
    day: date
    position: int
    arrival: datetime
    end: datetime
    extra_minutes: float
    drive_in: float
    drive_out: float
    after_job: str | None
    before_job: str | None
    prev_location: Place | None
    next_location: Place | None
    prev_time: datetime | None  # when the worker is at the previous place (None = leaves home)
    next_time: datetime | None


# --------------------------------------------------------------------------- public functions


def free_windows(
    day: date,
    working_hours: WorkingHours,
    jobs: Iterable[Job],
    busy: Iterable[Interval],
    travel: Travel,
    *,
    start_location: Place | None = None,
    end_location: Place | None = None,
    min_minutes: float = 30,
) -> list[Window]:
    """Free windows of one worker's day, shortest useful length `min_minutes` (shorter ones are noise)."""
    worker = Worker("", "", working_hours, start_location, end_location)
    wd = WorkerDay(worker, day, tuple(jobs), tuple(busy))
    return worker_windows(wd, travel, min_minutes=min_minutes)


def worker_windows(worker_day: WorkerDay, travel: Travel, *, min_minutes: float = 30) -> list[Window]:
    out: list[Window] = []
    for gap in _gaps(worker_day):
        leg = _leg(travel, gap.prev.location, gap.next.location if gap.next else None)
        pieces = take_from_end(gap.pieces, leg)
        if pieces is None:
            continue  # the worker is already late for the next place: nothing is free here
        for a, b in pieces:
            a, b = _ceil(a, 1), _floor_minute(b)  # shown to people: whole minutes, never promising more
            if _minutes(a, b) >= min_minutes - 1e-9:
                out.append(Window(a, b, gap.prev.location, gap.next.location if gap.next else None,
                                  gap.prev.id, gap.next.id if gap.next else None))
    return out


def insertion_options(worker_day: WorkerDay, new_job: Job, travel: Travel, *, round_to_min: int = 5) -> list[Insertion]:
    """Every gap where `new_job` fits, with its earliest arrival (on a `round_to_min` grid, because
    clients are promised round times) and the extra driving it costs; cheapest first."""
    out: list[Insertion] = []
    tz = worker_day.worker.hours.tz
    earliest = latest = None
    if new_job.arrive_between:
        earliest = _at(worker_day.day, new_job.arrive_between[0], tz)
        latest = _at(worker_day.day, new_job.arrive_between[1], tz)
    for gap in _gaps(worker_day):
        nxt = gap.next
        drive_in = _leg(travel, gap.prev.location, new_job.location)
        drive_out = _leg(travel, new_job.location, nxt.location if nxt else None)
        arrived = advance(gap.pieces, gap.prev.end, drive_in)
        if arrived is None:
            continue
        if earliest is not None:
            arrived = max(arrived, earliest)
        start = _fit(gap.pieces, arrived, new_job.duration_min, round_to_min)
        if start is None or (latest is not None and start > latest):
            continue
        end = start + timedelta(minutes=new_job.duration_min)
        if advance(gap.pieces, end, drive_out) is None:
            continue
        old = _leg(travel, gap.prev.location, nxt.location if nxt else None)
        out.append(Insertion(
            worker_id=worker_day.worker.id, day=worker_day.day, position=gap.position,
            arrival=start, end=end, extra_minutes=drive_in + drive_out - old,
            drive_in=drive_in, drive_out=drive_out,
            after_job=gap.prev.id, before_job=nxt.id if nxt else None,
            prev_location=gap.prev.location, next_location=nxt.location if nxt else None,
            prev_time=gap.prev.end if gap.prev.id is not None else None,
            next_time=nxt.start if nxt and nxt.id is not None else None,
        ))
    out.sort(key=lambda i: (i.extra_minutes, i.arrival))
    return out


# --------------------------------------------------------------------------- interval arithmetic


def subtract(intervals: Sequence[Interval], cuts: Iterable[Interval]) -> list[Interval]:
    """`intervals` minus every cut; cuts may overlap each other and stick out of the day."""
    out = sorted(intervals)
    for c0, c1 in sorted(cuts):
        nxt: list[Interval] = []
        for a, b in out:
            if c1 <= a or c0 >= b:
                nxt.append((a, b))
                continue
            if a < c0:
                nxt.append((a, c0))
            if c1 < b:
                nxt.append((c1, b))
        out = nxt
    return out


def advance(pieces: Sequence[Interval], t: datetime, minutes: float) -> datetime | None:
    """When `minutes` of available time starting at `t` are used up; None if the pieces run out."""
    left = minutes
    for a, b in pieces:
        if b <= t:
            continue
        a = max(a, t)
        span = _minutes(a, b)
        if left <= span + 1e-9:
            return a + timedelta(minutes=left)
        left -= span
    return t if left <= 1e-9 else None


def take_from_end(pieces: Sequence[Interval], minutes: float) -> list[Interval] | None:
    """Pieces with their last `minutes` removed (the drive to the next place); None if too short."""
    out = list(pieces)
    left = minutes
    while left > 1e-9:
        if not out:
            return None
        a, b = out.pop()
        span = _minutes(a, b)
        if span > left + 1e-9:
            out.append((a, b - timedelta(minutes=left)))
            left = 0
        else:
            left -= span
    return out


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True)
class _Stop:
    id: str | None
    location: Place | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class _Gap:
    prev: _Stop
    next: _Stop | None
    pieces: list[Interval]  # available time between prev.end and next.start
    position: int  # index in the day's booked jobs a job inserted here would take


def _gaps(wd: WorkerDay) -> list[_Gap]:
    hours = wd.worker.hours
    shift = hours.intervals(wd.day)
    if not shift:
        return []
    jobs = wd.booked()
    available = subtract(shift, list(wd.busy) + [(j.start, j.end) for j in jobs])
    lo, hi = _day_bounds(wd.day, hours.tz)
    home = _Stop(None, wd.worker.start_location, lo, lo)
    stops = [_Stop(j.id, j.location, j.start, j.end) for j in jobs]
    if wd.worker.end_location is not None:
        stops.append(_Stop(None, wd.worker.end_location, hi, hi))
    gaps: list[_Gap] = []
    current = home
    for index, stop in enumerate(stops + [None]):
        gap_end = stop.start if stop else hi
        if gap_end > current.end:
            pieces = [(max(a, current.end), min(b, gap_end)) for a, b in available if b > current.end and a < gap_end]
            gaps.append(_Gap(current, stop, pieces, index))
        if stop is not None and stop.end >= current.end:
            current = stop  # with double-booked jobs the worker leaves from the one that ends last
    return gaps


def _fit(pieces: Sequence[Interval], t: datetime, minutes: float, grid: int) -> datetime | None:
    """Earliest start ≥ t on the time grid where `minutes` fit inside one piece (a job is not split)."""
    for a, b in pieces:
        s = _ceil(max(a, t), grid)
        if s + timedelta(minutes=minutes) <= b:
            return s
    return None


def _ceil(t: datetime, grid: int) -> datetime:
    grid = max(grid, 1)
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = (t - midnight).total_seconds() / 60
    return midnight + timedelta(minutes=math.ceil(minutes / grid - 1e-9) * grid)


def _floor_minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def _leg(travel: Travel, a: Place | None, b: Place | None) -> float:
    return 0.0 if a is None or b is None else travel.minutes(a, b)


def _at(day: date, t: time, tz: tzinfo | None) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)


def _day_bounds(day: date, tz: tzinfo | None) -> Interval:
    lo = datetime.combine(day, time(0), tzinfo=tz)
    return lo, lo + timedelta(days=1)


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60.0
