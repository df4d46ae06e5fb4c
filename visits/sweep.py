"""The periodic sweep that applies visits/rules.py to a portal's visits — incremental and batched.

Reading: four ``crm.item.list`` queries (one per rule) through ``list_all`` (⌈N/2500⌉+1 calls each),
each bounded to items that *can* change since the last sweep: the rule's stage, the date range that
became due since the previous sweep's bound, OR ``>updatedTime`` the previous read (minus an overlap) —
items a person changed since. Writing: ``crm.item.update`` + ``crm.timeline.comment.add`` per move via
``batch_many`` (50 commands per HTTP call).

A rule never overwrites a newer human change. Bitrix24 has no conditional update, so right before the
write the candidates are re-read (``crm.item.list`` ``@id`` 50 ids per command, 50 commands per batch) and
any whose ``stageId`` / ``updatedTime`` moved since the first read is left alone, as is any item an
ONCRMDYNAMICITEMUPDATE event (recorded by visits/events.py) says was touched after the read started.
What is left is the window between the re-read and the write — milliseconds, not a sweep's minutes.
Each rule fires once per (visit, visit date): the ledger in our own table.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from install.registry import NotInstalled, installed_ids

from . import rules
from .ledger import VisitsLedger

log = logging.getLogger("b24app.visits.sweep")
STATE_KEY = "visits.sweep_state"
OVERLAP = timedelta(minutes=10)        # clock skew between us and the portal; re-reading a few rows is harmless
RECHECK_PER_COMMAND = 50


@dataclass
class SweepStats:
    read: int = 0
    candidates: int = 0
    moved: int = 0
    skipped_changed: int = 0
    skipped_fired: int = 0
    errors: int = 0
    http_calls: int = 0
    moves: list = field(default_factory=list)


def _iso(d: datetime) -> str:
    return d.isoformat(timespec="seconds")


def _queries(v, cfg: rules.RuleSettings, now: datetime, state: dict) -> tuple[list[tuple[str, dict]], dict]:
    """(rule, filter) per rule and the new bounds. Without a previous state the whole due range is read."""
    date_f = v.field("visit_date")
    hi = {"repeat": _iso(rules.local_shift(now, cfg.repeat_days, cfg.zone)),
          "draft": _iso(rules.local_shift(now, cfg.work_days or 0, cfg.zone)),
          "overdue": _iso(rules.local_shift(rules.day_over(now, cfg.zone), -1, cfg.zone)),   # local midnight today
          "failed": _iso(rules.local_shift(now, -cfg.overdue_days, cfg.zone))}
    if cfg.work_days is None:
        hi.pop("draft")                  # switched on later, its first sweep reads the whole due range
    wm = state.get("wm")

    def since(key: str, field_name: str, op: str) -> dict:
        """Newly due since the previous sweep. The previous bound was inclusive (``<=``) for repeat and
        failed, so this one starts after it (``>``); the overdue bound was exclusive (``<`` midnight), so
        a visit exactly at that midnight is due now and the range must include it (``>=``)."""
        lo = state.get(key)
        if not lo or not wm:
            return {}
        return {"0": {"logic": "OR", "0": {f"{op}{field_name}": lo}, "1": {">updatedTime": wm}}}

    base = {"categoryId": v.category_id}
    out = [
        ("repeat", {**base, "stageId": v.stage("repeat_visit"), f"<={date_f}": hi["repeat"],
                    **since("repeat", date_f, ">")}),
        ("overdue", {**base, "@stageId": [v.stage(k) for k in rules.OPEN_STAGES], f"<{date_f}": hi["overdue"],
                     **since("overdue", date_f, ">=")}),
        ("failed", {**base, "stageId": v.stage("overdue"), "<=movedTime": hi["failed"],
                    **since("failed", "movedTime", ">")}),
    ]
    if cfg.work_days is not None:                                   # the draft rule may be switched off
        out.append(("draft", {**base, "stageId": v.stage("draft"), f"<={date_f}": hi["draft"],
                              **since("draft", date_f, ">")}))
    return out, hi


def _recheck(client, etid: int, moves: list[rules.Move]) -> dict[int, dict]:
    """Current stageId/updatedTime of the candidates: 50 ids per list command, 50 commands per HTTP call."""
    ids = [m.item_id for m in moves]
    calls = [("crm.item.list", {"entityTypeId": etid, "filter": {"@id": ids[i:i + RECHECK_PER_COMMAND]},
                                "select": ["id", "stageId", "updatedTime"], "start": -1})
             for i in range(0, len(ids), RECHECK_PER_COMMAND)]
    now_state: dict[int, dict] = {}
    for res in client.batch_many(calls):
        if not res.ok:
            raise res.error
        rows = res.result.get("items", []) if isinstance(res.result, dict) else res.result
        for r in rows:
            now_state[int(r["id"])] = r
    return now_state


def sweep(services, member_id: str, now: datetime | None = None) -> SweepStats:
    """Apply the rules once. ``now`` is the injected clock (tests pass the sandbox's FakeClock time)."""
    now = now or datetime.now(UTC)
    store = services.store
    v = installed_ids(store, member_id).smart_process("visit")
    cfg = rules.settings_of(store.kv, member_id)
    portal = store.portals.get(member_id)
    lang = "ru" if (portal is None or (portal.lang or "ru") in ("ru", "ua", "by", "kz")) else "en"
    client = services.client(member_id)
    calls0 = client.http_calls
    ledger = VisitsLedger(store.engine, member_id)
    state = dict(store.kv.get(member_id, STATE_KEY) or {})
    stats = SweepStats()
    stage_keys = {sid: key for key, sid in v.stages.items()}
    date_f, result_f = v.field("visit_date"), v.field("result")
    select = ["id", "stageId", "updatedTime", "movedTime", "assignedById", date_f, result_f]

    read_started = now
    queries, hi = _queries(v, cfg, now, state)
    moves: dict[int, rules.Move] = {}
    for _rule, filt in queries:
        for item in client.list_all("crm.item.list", {"entityTypeId": v.entity_type_id, "select": select,
                                                      "filter": filt}):
            stats.read += 1
            mv = rules.decide(item, now, cfg, stage_keys, date_f, result_f)
            if mv is not None:
                moves.setdefault(mv.item_id, mv)
    fired = ledger.fired([(m.item_id, m.rule, m.date_key) for m in moves.values()])
    todo = []
    for m in moves.values():
        if (m.item_id, m.rule, m.date_key) in fired:
            stats.skipped_fired += 1
        else:
            todo.append(m)
    stats.candidates = len(todo)

    if todo:
        current = _recheck(client, v.entity_type_id, todo)
        touched = ledger.touched_since(read_started.timestamp())
        fresh = []
        for m in todo:
            cur = current.get(m.item_id)
            if cur is None or cur.get("stageId") != m.from_stage \
                    or str(cur.get("updatedTime") or "") != m.updated_time or m.item_id in touched:
                stats.skipped_changed += 1
                continue
            fresh.append(m)
        calls = []
        for m in fresh:
            calls.append(("crm.item.update", {"entityTypeId": v.entity_type_id, "id": m.item_id,
                                              "fields": {"stageId": v.stage(m.to_key)}}))
            calls.append(("crm.timeline.comment.add", {"fields": {
                "ENTITY_ID": m.item_id, "ENTITY_TYPE": f"dynamic_{v.entity_type_id}",
                "COMMENT": rules.reason(m, cfg, lang)}}))
        results = client.batch_many(calls) if calls else []
        done = []
        for i, m in enumerate(fresh):
            upd = results[2 * i]
            if upd.ok:
                done.append({"item_id": m.item_id, "rule": m.rule, "date_key": m.date_key,
                             "from_stage": m.from_stage, "to_stage": v.stage(m.to_key)})
                stats.moves.append((m.item_id, m.rule))
            else:
                stats.errors += 1
                log.warning("visit %s on %s: %s not applied: %s", m.item_id, member_id, m.rule, upd.error)
            if not results[2 * i + 1].ok:
                log.warning("visit %s on %s: timeline comment failed: %s", m.item_id, member_id,
                            results[2 * i + 1].error)
        ledger.record(done)
        stats.moved = len(done)

    if not stats.errors:        # a failed write is retried by reading the same window again next time
        state.update(hi)
        state["wm"] = _iso(read_started - OVERLAP)
        store.kv.set(member_id, STATE_KEY, state)
    stats.http_calls = client.http_calls - calls0
    return stats


def run(services, member_id: str) -> None:
    try:
        stats = sweep(services, member_id)
    except NotInstalled:
        log.debug("portal %s has no Visit smart process; sweep skipped", member_id)
        return
    if stats.moved or stats.errors:
        log.info("visits sweep %s: %s", member_id, {k: v for k, v in stats.__dict__.items() if k != "moves"})
