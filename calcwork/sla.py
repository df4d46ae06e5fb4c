"""SLA of the calculation → work flow (seed 002): how long a request waited to be taken, how long it was
worked on (the clock paused while a question waited for the manager), how long a work waited to be
accepted and to be finished — per record and summed up for the dashboards (``figures``, read by
``GET /api/calc/sla``; the reports domain may call ``figures`` too) — and the reminders when a request
waits too long (``remind``: the periodic job ``calcwork.sla`` declared in calcwork/plugin.py).

Reminders fire once per occurrence through the rules engine's firing ledger (rules/ledger.py): the row
(rule, entity, id, occurrence) is claimed before the notification and marked done after it, so a second
scheduler pass, a second scheduler process or a restarted one never sends it again. The occurrence names
the waiting that is reminded of: the request's time (a hand-over restarts it), the question's number, the
work's order time.

Times are the ISO moments the steps recorded in kv (calcwork.calc:<id> ``times`` and ``questions``,
calcwork.work:<id> ``times``); hours are rounded to 0.01.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rules.ledger import RulesLedger

from . import flow, settings, work
from .context import CALC_KEY, WORK_KEY, Actor, notify
from .strings import text

RULE_NEW, RULE_QUESTION, RULE_WORK = "calcwork.sla.new", "calcwork.sla.question", "calcwork.sla.work"


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _hours(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round(max((b - a).total_seconds(), 0.0) / 3600, 2)


def paused(rec: dict, start: datetime | None, end: datetime) -> float:
    """Seconds between ``start`` and ``end`` a question waited for the manager's answer."""
    total = 0.0
    for q in rec.get("questions") or []:
        a, b = _t(q.get("at")), _t(q.get("answered_at")) or end
        if start is not None:
            a = max(a, start)
        b = min(b, end)
        if b > a:
            total += (b - a).total_seconds()
    return total


def calc_figures(rec: dict, now: datetime) -> dict:
    t = rec.get("times") or {}
    requested, taken, done = _t(t.get("requested")), _t(t.get("taken")), _t(t.get("done"))
    end = done or now
    pause = paused(rec, taken, end) if taken else 0.0
    work = None if taken is None else round(max((end - taken).total_seconds() - pause, 0.0) / 3600, 2)
    return {"id": rec["id"], "deal_id": rec["deal_id"], "engineer_id": rec.get("engineer_id"),
            "requested": t.get("requested"), "taken": t.get("taken"), "done": t.get("done"),
            "state": "done" if done else "in_work" if taken else "waiting",
            "hours_to_take": _hours(requested, taken or now), "hours_in_work": work,
            "hours_paused": round(pause / 3600, 2), "questions": len(rec.get("questions") or []),
            "handovers": len(rec.get("handovers") or [])}


def work_figures(rec: dict, now: datetime) -> dict:
    t = rec.get("times") or {}
    ordered, accepted, done = _t(t.get("ordered")), _t(t.get("accepted")), _t(t.get("done"))
    return {"id": rec["id"], "deal_id": rec["deal_id"], "engineer_id": rec.get("engineer_id"),
            "ordered": t.get("ordered"), "accepted": t.get("accepted"), "on_site": t.get("on_site"),
            "done": t.get("done"), "state": "done" if done else "accepted" if accepted else "waiting",
            "hours_to_accept": _hours(ordered, accepted or now),
            "hours_to_finish": _hours(accepted, done or now) if accepted else None}


def _avg(values) -> float | None:
    values = [Decimal(str(v)) for v in values if v is not None]
    return float(round(sum(values) / len(values), 2)) if values else None


def records(kv, member_id: str) -> tuple[list[dict], list[dict]]:
    """The portal's calculation and work records (two prefix reads of kv, nothing else of the portal's)."""
    calc_prefix, work_prefix = CALC_KEY.split("{")[0], WORK_KEY.split("{")[0]
    calcs = [v for v in kv.items(member_id, calc_prefix).values() if isinstance(v, dict)]
    works = [v for v in kv.items(member_id, work_prefix).values() if isinstance(v, dict)]
    return sorted(calcs, key=lambda r: r["id"]), sorted(works, key=lambda r: r["id"])


def figures(actor: Actor, days: int = 30, now: datetime | None = None) -> dict:
    """Per calculation and work requested in the last ``days`` days, and their averages in hours."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    calcs, works = records(actor.kv, actor.member_id)
    cs = [calc_figures(r, now) for r in calcs if (_t((r.get("times") or {}).get("requested")) or now) >= since]
    ws = [work_figures(r, now) for r in works if (_t((r.get("times") or {}).get("ordered")) or now) >= since]
    return {"since": since.isoformat(timespec="seconds"), "now": now.isoformat(timespec="seconds"),
            "calculations": cs, "works": ws,
            "summary": {
                "calculations": {"count": len(cs), "waiting": sum(c["state"] == "waiting" for c in cs),
                                 "in_work": sum(c["state"] == "in_work" for c in cs),
                                 "done": sum(c["state"] == "done" for c in cs),
                                 "avg_hours_to_take": _avg(c["hours_to_take"] for c in cs if c["taken"]),
                                 "avg_hours_in_work": _avg(c["hours_in_work"] for c in cs if c["done"]),
                                 "avg_hours_paused": _avg(c["hours_paused"] for c in cs if c["done"])},
                "works": {"count": len(ws), "waiting": sum(w["state"] == "waiting" for w in ws),
                          "done": sum(w["state"] == "done" for w in ws),
                          "avg_hours_to_accept": _avg(w["hours_to_accept"] for w in ws if w["accepted"]),
                          "avg_hours_to_finish": _avg(w["hours_to_finish"] for w in ws if w["done"])}}}


def by_engineer(kv, member_id: str, first: datetime, until: datetime, now: datetime | None = None) -> dict:
    """The dashboards' SLA table: per engineer, the calculations requested and the works ordered in
    [first, until) — how many, how many done, and the average hours to take / in work (questions' waits
    left out) / to accept / to finish. Read from our own records only: no portal call."""
    now = now or datetime.now(UTC)
    calcs, works = records(kv, member_id)

    def within(value):
        at = _t(value)
        return at is not None and first <= at < until
    cs = [calc_figures(r, now) for r in calcs if within((r.get("times") or {}).get("requested"))]
    ws = [work_figures(r, now) for r in works if within((r.get("times") or {}).get("ordered"))]
    people: dict[int, dict] = {}

    def row(uid):
        return people.setdefault(int(uid or 0), {"engineer_id": int(uid or 0), "calcs": [], "works": []})
    for c in cs:
        row(c["engineer_id"])["calcs"].append(c)
    for w in ws:
        row(w["engineer_id"])["works"].append(w)

    def figures_of(uid, cl, wl):
        return {"engineer_id": uid or None, "calculations": len(cl),
                "calculations_done": sum(bool(c["done"]) for c in cl),
                "avg_hours_to_take": _avg(c["hours_to_take"] for c in cl if c["taken"]),
                "avg_hours_in_work": _avg(c["hours_in_work"] for c in cl if c["done"]),
                "works": len(wl), "works_done": sum(bool(w["done"]) for w in wl),
                "avg_hours_to_accept": _avg(w["hours_to_accept"] for w in wl if w["accepted"]),
                "avg_hours_to_finish": _avg(w["hours_to_finish"] for w in wl if w["done"])}
    order = sorted(people.items(), key=lambda kv: (kv[0] == 0, kv[0]))
    rows = [figures_of(uid, r["calcs"], r["works"]) for uid, r in order]
    return {"rows": rows, "totals": figures_of(None, cs, ws)}


# --- reminders --------------------------------------------------------------------------------------------
def _fire(ledger: RulesLedger, rule: str, entity: str, rid: int, occurrence: str, act, *args) -> bool:
    """``act(*args)`` once for this occurrence (the rules engine's ledger: claim → act → done)."""
    claim = ledger.claim(rule, entity, rid, occurrence)
    if claim is None:
        return False                            # reminded already (or another process is on it)
    try:
        act(*args)
    except Exception as exc:
        claim.failed(str(exc))                 # the next pass resumes it
        raise
    claim.advance()
    claim.done()
    return True


def _stages(actor: Actor, sp, ids) -> dict[int, str | None]:
    rows = actor.app.list_all("crm.item.list", {"entityTypeId": sp.entity_type_id,
                                                "filter": {"@id": sorted(ids)}, "select": ["id", "stageId"]})
    return {int(r["id"]): sp.stage_key(r["stageId"]) for r in rows}


def _say(actor: Actor, users, key: str, rec: dict, hours, tag: str) -> None:
    title = flow.get_deal(actor, rec["deal_id"], actor.app).get("TITLE") or ""
    notify(actor, users, text(actor.lang, key, title=title, hours=hours, url=flow.deal_url(actor, rec["deal_id"])),
           tag)


def remind(services, member_id: str, now: datetime | None = None) -> list[tuple[str, int]]:
    """Reminders for what waits longer than ``remind_after_hours``: a request nobody took (its recipients),
    a question the manager has not answered (the manager), a work nobody accepted (its engineer). Reads
    the portal only where kv has open records: the stage of the open Calculations / Works (one list call
    each), so a request cancelled in the portal is not reminded of. Returns what was sent."""
    now = now or datetime.now(UTC)
    conf = settings.load(services.store.kv, member_id)
    limit = Decimal(str(conf.get("remind_after_hours") or 0))
    if limit <= 0:
        return []
    calcs, works = records(services.store.kv, member_id)
    open_calcs = [r for r in calcs if not (r.get("times") or {}).get("done")]
    open_works = [r for r in works if not (r.get("times") or {}).get("done")]
    if not open_calcs and not open_works:
        return []
    portal = services.store.portals.get(member_id)
    actor = Actor(services, member_id, None, getattr(portal, "lang", None) or "ru")
    ledger = RulesLedger(services.store.engine, member_id)
    due = timedelta(hours=float(limit))
    sent = []
    stage = _stages(actor, flow.calc_sp(actor), [r["id"] for r in open_calcs]) if open_calcs else {}
    for rec in open_calcs:
        requested = _t(rec["times"].get("requested"))
        if stage.get(rec["id"]) == "new" and requested and now - requested >= due:
            if _fire(ledger, RULE_NEW, "calc", rec["id"], f"requested@{rec['times']['requested']}", _say, actor,
                     flow.recipients(actor, rec["target"]), "n.remind_new", rec, _hours(requested, now),
                     f"calc:{rec['id']}:remind"):
                sent.append((RULE_NEW, rec["id"]))
        pending = [q for q in rec.get("questions") or [] if q.get("answer") is None]
        if stage.get(rec["id"]) == "info_requested" and pending and now - _t(pending[0]["at"]) >= due:
            q = pending[0]
            if _fire(ledger, RULE_QUESTION, "calc", rec["id"], f"q{q['n']}", _say, actor, [rec.get("manager_id")],
                     "n.remind_question", rec, _hours(_t(q["at"]), now), f"calc:{rec['id']}:remind-q{q['n']}"):
                sent.append((RULE_QUESTION, rec["id"]))
    stage = _stages(actor, work.work_sp(actor), [r["id"] for r in open_works]) if open_works else {}
    for rec in open_works:
        ordered = _t(rec["times"].get("ordered"))
        if stage.get(rec["id"]) == "new" and ordered and now - ordered >= due:
            if _fire(ledger, RULE_WORK, "work", rec["id"], f"ordered@{rec['times']['ordered']}", _say, actor,
                     [rec["engineer_id"]], "n.remind_work", rec, _hours(ordered, now), f"work:{rec['id']}:remind"):
                sent.append((RULE_WORK, rec["id"]))
    return sent


def run(services, member_id: str) -> None:
    """The scheduler's periodic job (registry.every "calcwork.sla")."""
    remind(services, member_id)
