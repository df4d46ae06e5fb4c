"""Who should take a job, what a reassignment does to both days, and which dates to offer a client.

Everything is ranked by insertion cost — the extra minutes of driving a job adds to a worker's day —
because that is what the dispatcher in the seed does by eye on the map ("give it to the one who is
already measuring next door"). Every suggestion carries a one-line reason in Russian and English, so
the UI can show *why* without recomputing anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Mapping, Sequence

from maps.geo import Travel, haversine_km
from maps.schedule import Insertion, Job, Worker, WorkerDay, insertion_options

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Candidate:
    """A worker for a job on a day: the best insertion (None = does not fit) and why."""

    worker: Worker
    day: date
    insertion: Insertion | None
    distance_km: float | None
    reason_ru: str
    reason_en: str

    @property
    def fits(self) -> bool:
        return self.insertion is not None

    @property
    def extra_minutes(self) -> float | None:
        return None if self.insertion is None else self.insertion.extra_minutes

    def reason(self, lang: str = "ru") -> str:
        return self.reason_en if lang == "en" else self.reason_ru


@dataclass(frozen=True)
class RouteStop:
    job_id: str
    arrival: datetime
    start: datetime
    end: datetime
    drive_minutes: float
    late_minutes: float


@dataclass(frozen=True)
class DayRoute:
    """A worker's booked day as driven in time order: driving, lateness, double bookings, overtime."""

    worker_id: str
    day: date
    stops: tuple[RouteStop, ...]
    drive_minutes: float
    late_minutes: float
    overlaps: tuple[tuple[str, str], ...]
    overtime_minutes: float

    @property
    def ok(self) -> bool:
        return self.late_minutes < 1 and not self.overlaps


@dataclass(frozen=True)
class SwapPreview:
    """Both days before and after moving a job from worker A to worker B (and optionally one back)."""

    before_a: DayRoute
    after_a: DayRoute
    before_b: DayRoute
    after_b: DayRoute
    moved: Job

    @property
    def extra_minutes(self) -> float:
        """Change of total driving of both workers: negative means the swap saves driving."""
        return (self.after_a.drive_minutes + self.after_b.drive_minutes
                - self.before_a.drive_minutes - self.before_b.drive_minutes)

    @property
    def ok(self) -> bool:
        return self.after_a.ok and self.after_b.ok


@dataclass(frozen=True)
class Slot:
    worker: Worker
    day: date
    insertion: Insertion | None
    load: float | None  # booked work + driving ÷ shift length, before adding the job; None = day off
    score: float | None  # lower is better; None = the job does not fit


@dataclass
class SlotGrid:
    """Dates × workers for the installation date picker; `best` lists fitting slots, best first."""

    days: list[date]
    workers: list[Worker]
    cells: dict[tuple[str, date], Slot] = field(default_factory=dict)
    best: list[Slot] = field(default_factory=list)

    def cell(self, worker_id: str, day: date) -> Slot:
        return self.cells[(worker_id, day)]


# --------------------------------------------------------------------------- ranking


def rank_candidates(job: Job, worker_days: Sequence[WorkerDay], travel: Travel, *,
                    round_to_min: int = 5) -> list[Candidate]:
    """Workers ordered by the extra driving the job costs them; those without a fitting window last.

    A job that already has a start time (the client agreed on it) is tested at exactly that time, on
    the worker days of that date; an unbooked job gets the earliest arrival in each worker's best gap.
    """
    fixed = job.start is not None
    if fixed:
        job = replace(job, arrive_between=(job.start.time(), job.start.time()))
        round_to_min = 1
    out = []
    for wd in worker_days:
        if fixed and wd.day != job.start.date():
            continue
        options = insertion_options(wd.without_job(job.id), replace(job, start=None), travel, round_to_min=round_to_min)
        best = options[0] if options else None
        out.append(_candidate(job, wd, best))
    out.sort(key=lambda c: (not c.fits, c.extra_minutes or 0.0, c.insertion.arrival if c.fits else datetime.min,
                            c.worker.name))
    return out


def _candidate(job: Job, wd: WorkerDay, ins: Insertion | None) -> Candidate:
    w = wd.worker
    name_ru, name_en = w.name, w.name_en or transliterate(w.name)
    if ins is None:
        if not w.hours.intervals(wd.day):
            return Candidate(w, wd.day, None, None, f"{name_ru}: выходной {wd.day:%d.%m}",
                             f"{name_en}: day off on {_date_en(wd.day)}")
        return Candidate(w, wd.day, None, None, f"{name_ru}: нет свободного окна {wd.day:%d.%m}",
                         f"{name_en}: no free window on {_date_en(wd.day)}")
    extra = round(ins.extra_minutes)
    arr = f"{ins.arrival:%H:%M}"
    near = []  # (km, time) of the booked jobs next to the insertion point
    if ins.prev_time is not None:
        near.append((haversine_km(ins.prev_location, job.location), ins.prev_time))
    if ins.next_time is not None:
        near.append((haversine_km(ins.next_location, job.location), ins.next_time))
    if near:
        km, at = min(near)
        return Candidate(w, wd.day, ins, km,
                         f"{name_ru} будет в {_km_ru(km)} км в {at:%H:%M}, {extra:+d} мин; у клиента в {arr}",
                         f"{name_en} will be {km:.1f} km away at {at:%H:%M}, {extra:+d} min; at the client at {arr}")
    if ins.prev_location is not None:
        km = haversine_km(ins.prev_location, job.location)
        return Candidate(w, wd.day, ins, km,
                         f"{name_ru}: {_km_ru(km)} км от точки выезда, {extra:+d} мин; у клиента в {arr}",
                         f"{name_en}: {km:.1f} km from the start point, {extra:+d} min; at the client at {arr}")
    return Candidate(w, wd.day, ins, None, f"{name_ru} свободен; у клиента в {arr}",
                     f"{name_en} is free; at the client at {arr}")


# --------------------------------------------------------------------------- day routes and swaps


def day_route(wd: WorkerDay, travel: Travel) -> DayRoute:
    """Drive the booked day in time order. Leaving home early for the first job is the worker's own
    business, so only lateness between jobs counts."""
    jobs = wd.booked()
    w = wd.worker
    stops, overlaps = [], []
    drive_total = late_total = 0.0
    prev: Job | None = None
    for j in jobs:
        a = prev.location if prev else w.start_location
        drive = 0.0 if a is None else travel.minutes(a, j.location)
        drive_total += drive
        if prev is None:
            arrival, late = j.start, 0.0
        else:
            if j.start < prev.end:
                overlaps.append((prev.id, j.id))
            arrival = prev.end + timedelta(minutes=drive)
            late = max(0.0, (arrival - j.start).total_seconds() / 60)
        late_total += late
        stops.append(RouteStop(j.id, arrival, j.start, j.end, drive, late))
        if prev is None or j.end >= prev.end:
            prev = j
    finish = prev.end if prev else None
    if prev is not None and w.end_location is not None:
        home = travel.minutes(prev.location, w.end_location)
        drive_total += home
        finish = prev.end + timedelta(minutes=home)
    shift = w.hours.intervals(wd.day)
    overtime = 0.0
    if finish is not None and shift:
        overtime = max(0.0, (finish - shift[-1][1]).total_seconds() / 60)
    return DayRoute(w.id, wd.day, tuple(stops), drive_total, late_total, tuple(overlaps), overtime)


def swap_preview(job: Job, worker_a_day: WorkerDay, worker_b_day: WorkerDay, travel: Travel, *,
                 give_back: Job | None = None) -> SwapPreview:
    """What happens if `job` goes from A to B (keeping its agreed time), and `give_back` from B to A.

    An unbooked job is placed at B's cheapest insertion; if it fits nowhere it is placed at A's time
    anyway, so the preview shows the clash instead of hiding it.
    """
    moved = job
    if job.start is None:
        options = insertion_options(worker_b_day, job, travel)
        if options:
            moved = replace(job, start=options[0].arrival)
    after_a = worker_a_day.without_job(job.id)
    after_b = worker_b_day.with_job(moved) if moved.start is not None else worker_b_day
    if give_back is not None:
        after_b = after_b.without_job(give_back.id)
        after_a = after_a.with_job(give_back)
    return SwapPreview(day_route(worker_a_day, travel), day_route(after_a, travel),
                       day_route(worker_b_day, travel), day_route(after_b, travel), moved)


# --------------------------------------------------------------------------- installation date picker


def best_slots(job: Job, workers: Sequence[Worker], days: Sequence[date], travel: Travel,
               load: Mapping[tuple[str, date], WorkerDay], *, load_weight: float = 60.0,
               round_to_min: int = 15) -> SlotGrid:
    """Score every (date, worker) cell: extra driving minutes + `load_weight` × how full the day is.

    `load` holds the booked days, keyed by (worker id, date); a missing key is an empty day. With the
    default weight a completely full day costs as much as an hour of extra driving, so the picker
    spreads installations instead of piling them on whoever lives closest.
    """
    grid = SlotGrid(list(days), list(workers))
    for d in days:
        for w in workers:
            wd = load.get((w.id, d)) or WorkerDay(w, d)
            shift = wd.shift_minutes()
            if shift <= 0:
                grid.cells[(w.id, d)] = Slot(w, d, None, None, None)
                continue
            route = day_route(wd, travel)
            busy = sum(j.duration_min for j in wd.booked()) + route.drive_minutes
            ratio = busy / shift
            options = insertion_options(wd, job, travel, round_to_min=round_to_min)
            ins = options[0] if options else None
            score = None if ins is None else ins.extra_minutes + load_weight * ratio
            slot = Slot(w, d, ins, ratio, score)
            grid.cells[(w.id, d)] = slot
            if ins is not None:
                grid.best.append(slot)
    grid.best.sort(key=lambda s: (s.score, s.day, s.insertion.arrival, s.worker.name))
    return grid


# --------------------------------------------------------------------------- wording


def _km_ru(km: float) -> str:
    return f"{km:.1f}".replace(".", ",")


def _date_en(d: date) -> str:
    return f"{d.day} {_MONTHS_EN[d.month - 1]}"


_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
     "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
))


def transliterate(text: str) -> str:
    """Russian → Latin (passport-style) for English reasons when no English name is configured."""
    out = []
    for ch in text:
        low = ch.lower()
        if low in _TRANSLIT:
            lat = _TRANSLIT[low]
            out.append(lat.capitalize() if ch != low else lat)
        else:
            out.append(ch)
    return "".join(out)
