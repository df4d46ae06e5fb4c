"""The kanban rules of the Visit smart process, as pure functions of (item, now, settings) — no I/O, so
they are tested with any clock and the sweep only decides *which* items to ask about.

1. ``repeat_to_work``: a visit in *Repeat visit* returns to *In work* ``repeat_days`` (N, default 3)
   before its date — the manager sees it among current work in time to prepare.
2. ``overdue``: a visit still in Draft / In work / Repeat with no result when its day is over (local
   midnight after the visit date, portal time zone) goes to *Overdue*. Until midnight the manager may
   still be at the client.
3. ``failed``: after ``overdue_days`` (M, default 5) in *Overdue* (``movedTime``) it goes to the failed
   stage *Visit failed*.
4. ``draft_to_work``: a *Draft* planned weeks ahead moves to *In work* ``work_days`` (default 7) before its
   date — seed 001: "Взял в работу — визиты, по которым в течение недели от даты посещения ведется
   активная работа".
Per-portal settings live in store.kv under ``visits.*`` keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

KV_REPEAT_DAYS = "visits.repeat_days"
KV_OVERDUE_DAYS = "visits.overdue_days"
KV_WORK_DAYS = "visits.work_days"               # N days, or OFF: drafts wait for a person
OFF = "off"
KV_TZ = "visits.tz"
KV_SWEEP_SECONDS = "visits.sweep_seconds"
KV_VISITED_PERIOD = "visits.visited_period"       # "month" | "quarter" | "year" | "<n>d"
KV_PLAN = "visits.plan"                           # {"<user_id>": visits per month, "default": n}

REPEAT, OVERDUE, FAILED, DRAFT = "repeat_to_work", "overdue", "failed", "draft_to_work"
OPEN_STAGES = ("draft", "in_work", "repeat_visit")


@dataclass(frozen=True)
class RuleSettings:
    repeat_days: int = 3
    overdue_days: int = 5
    tz: str = "Europe/Moscow"
    work_days: int | None = 7                    # None: the draft rule is off

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


def settings_of(kv, member_id: str) -> RuleSettings:
    def num(key, default):
        try:
            return max(0, int(kv.get(member_id, key, default)))
        except (TypeError, ValueError):
            return default
    work = None if kv.get(member_id, KV_WORK_DAYS) in (OFF, False) else num(KV_WORK_DAYS, 7)
    return RuleSettings(num(KV_REPEAT_DAYS, 3), num(KV_OVERDUE_DAYS, 5),
                        str(kv.get(member_id, KV_TZ) or "Europe/Moscow"), work)


@dataclass(frozen=True)
class Move:
    item_id: int
    rule: str
    from_stage: str          # stage id as read
    to_key: str              # our stage key (draft, in_work, overdue, failed, ...)
    date_key: str            # the visit date this rule fires for (ledger key)
    updated_time: str        # as read — the write is skipped if it changed


def parse_dt(value, zone: ZoneInfo) -> datetime | None:
    """Portal dates come as ISO with an offset (crm.item.*); a naive one is in the portal's zone."""
    if not value or not isinstance(value, str):
        return None
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=zone)


def day_over(visit_at: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight after the visit's day: when a visit without a result becomes overdue."""
    local = visit_at.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)


def local_shift(moment: datetime, days: int, zone: ZoneInfo) -> datetime:
    """``moment`` ± whole days on the portal's wall clock: "3 days before 10:00" is 10:00 three local days
    earlier even across a daylight-saving change (aware arithmetic in one ZoneInfo is wall-clock)."""
    return moment.astimezone(zone) + timedelta(days=days)


def decide(item: dict, now: datetime, cfg: RuleSettings, stage_keys: dict, date_field: str,
           result_field: str) -> Move | None:
    """The one move the rules want for ``item`` now, or None. ``stage_keys``: stage id → our key."""
    key = stage_keys.get(item.get("stageId"))
    visit_at = parse_dt(item.get(date_field), cfg.zone)
    date_key = visit_at.isoformat() if visit_at else ""
    common = {"item_id": int(item["id"]), "from_stage": item.get("stageId"), "date_key": date_key,
              "updated_time": str(item.get("updatedTime") or "")}
    if key in OPEN_STAGES and visit_at is not None and not str(item.get(result_field) or "").strip() \
            and now >= day_over(visit_at, cfg.zone):
        return Move(rule=OVERDUE, to_key="overdue", **common)
    if key == "repeat_visit" and visit_at is not None and now >= local_shift(visit_at, -cfg.repeat_days, cfg.zone) \
            and now < day_over(visit_at, cfg.zone):
        return Move(rule=REPEAT, to_key="in_work", **common)
    if key == "draft" and cfg.work_days is not None and visit_at is not None \
            and local_shift(visit_at, -cfg.work_days, cfg.zone) <= now < day_over(visit_at, cfg.zone):
        return Move(rule=DRAFT, to_key="in_work", **common)
    if key == "overdue":
        moved = parse_dt(item.get("movedTime"), cfg.zone)
        if moved is not None and now >= local_shift(moved, cfg.overdue_days, cfg.zone):
            return Move(rule=FAILED, to_key="failed", **common)
    return None


def reason(move: Move, cfg: RuleSettings, lang: str) -> str:
    """The timeline comment that explains an automatic move (ru/en by the portal's language)."""
    ru = lang == "ru"
    if move.rule == REPEAT:
        return (f"b24app: повторный визит вернулся в работу — до даты посещения осталось не больше "
                f"{cfg.repeat_days} дн.") if ru else \
            f"b24app: repeat visit moved back to In work — the visit date is {cfg.repeat_days} day(s) away or less."
    if move.rule == DRAFT:
        return (f"b24app: черновик взят в работу — до даты посещения осталось не больше {cfg.work_days} дн."
                if ru else f"b24app: draft moved to In work — the visit date is {cfg.work_days} day(s) away or less.")
    if move.rule == OVERDUE:
        return "b24app: дата посещения прошла, а результат не внесён — посещение просрочено." if ru else \
            "b24app: the visit date has passed without a result — the visit is overdue."
    return (f"b24app: посещение {cfg.overdue_days} дн. в статусе «Просрочено» — визит не состоялся.") if ru else \
        f"b24app: the visit stayed Overdue for {cfg.overdue_days} day(s) — marked as failed."
