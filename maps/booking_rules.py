"""The hard rules of booking a field job, in one place, so the API, the date grid, the robots and the map
obey the same ones (issue 14):

- nothing is booked in the past (the portal's now, its time zone);
- nothing is booked outside the worker's working hours (a day off, before the shift, past its end);
- a busy worker — the job does not fit his day at that time: another job, the drive between them, his
  calendar — is not booked unless the dispatcher confirms an override; the override is recorded on the
  deal (a timeline comment saying who overrode what), never silent.

The first two have no override: a job in the past or at night is a typing mistake, not a decision. Busy is
decided exactly as the candidate list decides "нет свободного окна" (``rank_candidates`` at a fixed time),
so what the list shows busy the API refuses. Errors carry their text in Russian and English (``said``).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from b24app.errors import said
from maps.dispatch import rank_candidates
from maps.schedule import Interval, Job, WorkerDay

from maps.assign_errors import AssignError


class RuleBroken(AssignError):
    """A booking the rules refuse; ``overridable`` says whether the dispatcher may confirm it anyway."""

    overridable = False


class InThePast(RuleBroken):
    """The start is before the portal's now."""


class OutsideHours(RuleBroken):
    """The job does not lie within the worker's working hours of that day (or the day is off)."""


class WorkerBusy(RuleBroken):
    """The worker's day has no room for the job at that time; a dispatcher may override (recorded)."""

    overridable = True


def past_block(day: date, now: datetime) -> Interval | None:
    """The part of ``day`` that is already over, as a busy interval (None when the day is still ahead):
    added to a worker's day, no window and no insertion is ever offered before now."""
    tz = now.tzinfo
    lo = datetime.combine(day, time(0), tzinfo=tz)
    if now <= lo:
        return None
    return lo, min(now, lo + timedelta(days=1))


def check(wd: WorkerDay, job: Job, travel, now: datetime, *, override: bool = False) -> bool:
    """Raise the first rule ``job`` (with its start) breaks on ``wd``; True when the booking stands only by
    the dispatcher's override (the caller records it on the deal), False when no rule was bent."""
    start, end = job.start, job.end
    name = wd.worker.name
    if start < now:
        raise InThePast(said(f"{start:%d.%m.%Y %H:%M} is in the past: pick a time from now on",
                             f"{start:%d.%m.%Y %H:%M} уже прошло: выберите время не раньше текущего"))
    shift = wd.worker.hours.intervals(start.date())
    if not shift:
        raise OutsideHours(said(f"{name} does not work on {start:%d.%m.%Y}",
                                f"{start:%d.%m.%Y} у сотрудника {name} выходной"))
    if start < shift[0][0] or end > shift[-1][1]:
        raise OutsideHours(said(
            f"{start:%H:%M}–{end:%H:%M} is outside {name}'s working hours "
            f"({shift[0][0]:%H:%M}–{shift[-1][1]:%H:%M})",
            f"{start:%H:%M}–{end:%H:%M} вне рабочего времени сотрудника {name} "
            f"({shift[0][0]:%H:%M}–{shift[-1][1]:%H:%M})"))
    ranked = rank_candidates(job, [wd], travel)
    if ranked and ranked[0].fits:
        return False
    if override:
        return True
    raise WorkerBusy(said(
        f"{name} is busy at {start:%d.%m.%Y %H:%M} (another job, the drive to it or the calendar): "
        f"confirm the override to book anyway",
        f"{name} занят {start:%d.%m.%Y} в {start:%H:%M} (другой выезд, дорога к нему или календарь): "
        f"подтвердите назначение поверх занятости"))


def override_comment(worker_name: str, start: datetime, by_user: int | None, lang: str = "ru") -> str:
    """What the deal's timeline keeps about an override: who booked whom over what."""
    who = f"[USER={int(by_user)}][/USER]" if by_user else ("приложение" if lang != "en" else "the app")
    if lang == "en":
        return (f"Booked over the worker's busy time: {worker_name}, {start:%d.%m.%Y %H:%M}. "
                f"The dispatcher confirmed the override: {who}.")
    return (f"Назначено поверх занятости сотрудника: {worker_name}, {start:%d.%m.%Y %H:%M}. "
            f"Назначение подтвердил диспетчер: {who}.")
