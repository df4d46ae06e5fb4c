"""Evaluating a portal's rules: from the event inbox (ONCRMDEALADD / ONCRMDEALUPDATE: stage entered, field
changed, moved back past a guarded stage) and from the scheduler (time in stage, date field reached), each
occurrence claimed in the ledger before it acts (rules/ledger.py), so a replayed event, a second pass or a
restarted scheduler never acts twice.

Occurrences:
- stage_entered     "<stage>@<MOVED_TIME>" — once per entry into the stage (a later re-entry is a new one)
- field_changed     "first" with first_set (once per deal, ever); else "<old>→<new>@<DATE_MODIFY>" (hashed)
- stage_moved_back  "<stage>@<MOVED_TIME>" — the move that went back before ``past``
- time_in_stage     "<stage>@<MOVED_TIME>#<k>" — the k-th reminder of that stay (k ≤ repeat.times)
- date_reached      "<field>=<value>#<k>"
A reminder that fell due while the scheduler was down is recorded as skipped when a later one is due: the
person gets the latest reminder, not three at once.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from b24app import guards
from b24app.errors import B24Error

from . import model, nps
from .actions import BATCHED, ActionError, Context, command_calls, portal_lang
from .actions import run as run_action
from .ledger import RulesLedger
from .model import Document, Rule

log = logging.getLogger("b24app.rules")
ENTITY = "deal"
BASE_FIELDS = ["ID", "TITLE", "STAGE_ID", "CATEGORY_ID", "ASSIGNED_BY_ID", "MOVED_TIME", "DATE_MODIFY",
               "PREVIOUS_STAGE_ID"]
# what differs between the entities a rule may watch: a lead's stage is STATUS_ID (the STATUS list), it has
# no pipeline; rows are read with their own methods and carry STAGE_ID as an alias inside the engine
ENTITIES = {
    "deal": {"get": "crm.deal.get", "list": "crm.deal.list", "update": "crm.deal.update", "stage": "STAGE_ID",
             "base": BASE_FIELDS},
    "lead": {"get": "crm.lead.get", "list": "crm.lead.list", "update": "crm.lead.update", "stage": "STATUS_ID",
             "base": ["ID", "TITLE", "STATUS_ID", "ASSIGNED_BY_ID", "MOVED_TIME", "DATE_MODIFY", "COMMENTS"]},
}
EVENT_KINDS = ("stage_entered", "field_changed", "stage_moved_back")
TIME_KINDS = ("time_in_stage", "date_reached", "schedule")


def normalize(entity: str, row: dict) -> dict:
    """A lead row as the engine reads every row: STAGE_ID = its STATUS_ID, no pipeline."""
    if entity == "lead" and row is not None:
        row = dict(row)
        row["STAGE_ID"] = row.get("STATUS_ID")
        row["CATEGORY_ID"] = None
    return row


def select_of(entity: str, fields) -> list[str]:
    out = set(ENTITIES[entity]["base"]) | set(fields)
    if entity == "lead":
        out = {("STATUS_ID" if f == "STAGE_ID" else f) for f in out} - {"CATEGORY_ID", "PREVIOUS_STAGE_ID"}
    return sorted(out)
DATE_LOOKBACK = timedelta(days=30)      # a date field older than this (plus the repeats) no longer fires


@dataclass
class Stats:
    fired: list = field(default_factory=list)       # (rule id, deal id, occurrence)
    skipped: int = 0
    errors: list = field(default_factory=list)
    read: int = 0


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _h(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:12]


def _empty(v) -> bool:
    return v is None or v == "" or v == [] or v is False or str(v) in ("0", "0.00", "N")


def _num(v):
    try:
        return Decimal(str(v).replace(",", "."))
    except (InvalidOperation, ValueError):
        return None


def holds(cond: dict, deal: dict, ctx=None, entity: str = ENTITY) -> bool:
    if "check" in cond:          # a named guard check (b24app/guards.py): None = cannot tell here → passes
        verdict = guards.check(cond["check"], ctx.services, ctx.member_id, entity, deal) if ctx else None
        # no verdict here (no 1C base, the domain off): the check does not hold the entity back
        return (True if verdict is None else bool(verdict)) is cond.get("is", True)
    v, op, want = deal.get(cond["field"]), cond["op"], cond.get("value")
    if op == "empty":
        return _empty(v)
    if op == "not_empty":
        return not _empty(v)
    if op == "eq":
        return str(v if v is not None else "") == str(want if want is not None else "")
    if op == "ne":
        return str(v if v is not None else "") != str(want if want is not None else "")
    if op == "in":
        return str(v) in {str(w) for w in (want if isinstance(want, list) else [want])}
    a, b = _num(v), _num(want)
    if a is None or b is None:
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def applies(rule: Rule, deal: dict, ctx=None) -> bool:
    if rule.category is not None and int(deal.get("CATEGORY_ID") or 0) != rule.category:
        return False
    if not rule.conditions:
        return True
    tests = (holds(c, deal, ctx, rule.entity) for c in rule.conditions)
    return any(tests) if rule.match_any else all(tests)


def context(services, member_id: str, doc: Document, now: datetime | None = None) -> Context:
    return Context(services=services, member_id=member_id, client=services.client(member_id),
                   ledger=RulesLedger(services.store.engine, member_id), calendar=doc.calendar,
                   now=now or datetime.now(UTC), lang=portal_lang(services, member_id))


def fire(ctx: Context, rule: Rule, deal: dict, occurrence: str, extra: dict | None = None,
         stats: Stats | None = None) -> bool:
    """Claim the occurrence and run the rule's actions from the step the ledger holds. True = acted now."""
    claim = ctx.ledger.claim(rule.id, rule.entity, int(deal["ID"]), occurrence)
    if claim is None:
        return False
    extra = dict(extra or {})
    try:
        rest = rule.actions[claim.step:]
        if ctx.outbox is not None and rest and all(a["type"] in BATCHED for a in rest):
            per_action = [command_calls(ctx, rule, a, deal, extra) for a in rest]
            calls = [c for cs in per_action for c in cs]
            ctx.outbox.append((claim, calls, [len(cs) for cs in per_action], (rule.id, int(deal["ID"]), occurrence),
                               stats))
            if sum(len(item[1]) for item in ctx.outbox) >= OUTBOX_COMMANDS:
                flush(ctx)
            return True
        for action in rest:
            run_action(ctx, rule, action, deal, extra)
            claim.advance()
    except ActionError as exc:          # permanent: the deal lacks what the action needs — say so, stop
        log.warning("rules %s: %s", ctx.member_id, exc)
        claim.done()
        ctx.ledger._update(claim.key, error=str(exc)[:500])
        if stats is not None:
            stats.errors.append((rule.id, int(deal["ID"]), str(exc)))
        return False
    except Exception as exc:
        claim.failed(f"{type(exc).__name__}: {exc}")
        raise
    claim.done()
    if stats is not None:
        stats.fired.append((rule.id, int(deal["ID"]), occurrence))
    return True


OUTBOX_COMMANDS = 1000         # 20 batch calls of 50 commands at most per flush (fewer once digested)


def flush(ctx: Context) -> None:
    """Send the queued notifications of the pass in batches; each occurrence is done when all its commands
    went out, failed (resumed by the next pass) when one of them was refused. A process that dies before
    the flush leaves its claims running: the next scheduler takes them over after their lease."""
    skips, ctx.__dict__["_skips"] = ctx.__dict__.get("_skips") or [], []
    if skips:
        n = ctx.ledger.skip_rows(skips)
        if stats_of(ctx) is not None:
            stats_of(ctx).skipped += n
    box, ctx.outbox = ctx.outbox or [], []
    if not box:
        return
    commands, where = _digest([c for item in box for c in item[1]])
    try:
        sent = ctx.client.batch_many(commands)
        results = [sent[j] for j in where]
    except Exception as exc:
        for claim, *_ in box:
            claim.failed(f"{type(exc).__name__}: {exc}")
        raise
    i, finished = 0, []
    for claim, calls, counts, key, stats in box:
        got, i = results[i:i + len(calls)], i + len(calls)
        bad = [r.error for r in got if not r.ok]
        if bad:
            k = 0                       # the step reached: the actions whose every command went out
            for n in counts:
                if not all(r.ok for r in got[k:k + n]):
                    break
                k += n
                claim.step += 1
            claim.failed(f"{type(bad[0]).__name__}: {bad[0]}")
            if stats is not None:
                stats.errors.append((key[0], key[1], str(bad[0])))
            continue
        claim.step += len(counts)
        finished.append(claim)
        ctx.calls.append(("notify", key[1], [c[1]["USER_ID"] for c in calls if "USER_ID" in c[1]]))
        if stats is not None:
            stats.fired.append(key)
    ctx.ledger.done_many(finished)


def stats_of(ctx):
    return ctx.__dict__.get("_stats")


DIGEST_OVER = 10       # more notifications than this for one person in one flush → a few combined messages
DIGEST_LINES = 20


def _digest(calls: list) -> tuple[list, list[int]]:
    """Nobody gets hundreds of pings from one pass (the first pass after an install finds every overdue deal
    at once): a person's notifications beyond DIGEST_OVER in one flush are combined, DIGEST_LINES to a
    message. Returns the commands to send and, for each input command, the index of the one carrying it."""
    per_user: dict[int, list[int]] = {}
    for i, (method, params) in enumerate(calls):
        if method == "im.notify.system.add":
            per_user.setdefault(int(params["USER_ID"]), []).append(i)
    merged = {u: idx for u, idx in per_user.items() if len(idx) > DIGEST_OVER}
    out, where, done = [], [0] * len(calls), set()
    for i, (method, params) in enumerate(calls):
        if i in done:
            continue
        user = int(params["USER_ID"]) if method == "im.notify.system.add" else None
        if user in merged:
            idx = merged[user]
            for start in range(0, len(idx), DIGEST_LINES):
                group = idx[start:start + DIGEST_LINES]
                text = "\n\n".join(calls[j][1]["MESSAGE"] for j in group)
                for j in group:
                    where[j] = len(out)
                    done.add(j)
                out.append(("im.notify.system.add", {"USER_ID": user, "MESSAGE": text}))
            del merged[user]
            continue
        where[i] = len(out)
        out.append((method, params))
    return out, where


# --- events ------------------------------------------------------------------------------------------
def _stage_order(ctx: Context, category: int, entity: str = ENTITY) -> list[str]:
    cache = ctx.__dict__.setdefault("_stage_orders", {})
    if (entity, category) not in cache:
        entity_id = "STATUS" if entity == "lead" else "DEAL_STAGE" if not category else f"DEAL_STAGE_{category}"
        rows = ctx.client.call("crm.status.list", {"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": entity_id}})
        # process stages only: leaving a won/lost stage is the 1C paid gate's business (sync_1c/gate.py moves
        # an unpaid won deal back); were it guarded here too, the two could revert each other's moves forever
        cache[(entity, category)] = [r["STATUS_ID"] for r in sorted(rows or [], key=lambda r: int(r.get("SORT") or 0))
                                     if r.get("SEMANTICS") not in ("S", "F")]
    return cache[(entity, category)]


def evaluate_deal(ctx: Context, doc: Document, deal: dict, stats: Stats | None = None,
                  entity: str = ENTITY) -> None:
    """The event-driven rules for one deal (or lead) as it is now, against what we saw of it last time."""
    deal = normalize(entity, deal)
    deal_id = int(deal["ID"])
    seen = ctx.ledger.seen(entity, deal_id)
    stage, moved = str(deal.get("STAGE_ID") or ""), str(deal.get("MOVED_TIME") or "")
    cat = int(deal.get("CATEGORY_ID") or 0)
    rules = [r for r in doc.by_kind(*EVENT_KINDS) if r.entity == entity and (r.category is None or r.category == cat)]
    watched = sorted({r.trigger["field"] for r in rules if r.kind == "field_changed"})
    guarded = [r for r in rules if r.kind == "stage_moved_back"]
    order = _stage_order(ctx, cat, entity) if guarded else []
    idx = {s: i for i, s in enumerate(order)}
    previous = deal.get("PREVIOUS_STAGE_ID")
    if guarded and entity == ENTITY and not previous \
            and idx.get(stage, 10**6) < max(idx.get(r.trigger["past"], -1) for r in guarded) \
            and (seen or {}).get("stage") != stage:
        previous = _previous_stage(ctx, deal_id)      # crm.deal.* does not carry it; the item API does
    earlier = [s for s in (previous, (seen or {}).get("stage")) if s and s != stage]
    furthest = max([idx.get(s, -1) for s in ((seen or {}).get("furthest"), *earlier, stage) if s] or [-1])
    # a guard's own move back (b24app/guards.py) is not an entry: the stage's tasks were made when the deal
    # first came in, and must not be made again because a forbidden move was undone
    mark = guards.moved_back_to(ctx.services.store.kv, ctx.member_id, entity, deal_id)
    guard_back = mark == stage
    if mark and not guard_back:
        guards.forget_move_back(ctx.services.store.kv, ctx.member_id, entity, deal_id)
    # guards first: a move a guard undoes is no entry for the stage's other rules (no task for a refused move)
    rules.sort(key=lambda r: not any(a["type"] == "revert_move" for a in r.actions))
    refused = False
    for rule in rules:
        t, occ, extra = rule.trigger, None, {}
        if rule.kind == "stage_entered" and refused:
            continue
        if rule.kind == "stage_entered":
            stages = t["stage"] if isinstance(t["stage"], list) else [t["stage"]]
            if stage in stages and guard_back:
                ctx.ledger.skip(rule.id, entity, deal_id, f"{stage}@{moved}")
            elif stage in stages:
                occ = f"{stage}@{moved}"
        elif rule.kind == "field_changed":
            value = deal.get(t["field"])
            if t.get("first_set"):
                occ = "first" if not _empty(value) else None
            elif seen is not None and _h(value) != (seen.get("fields") or {}).get(t["field"]):
                occ = f"{t['field']}:{(seen.get('fields') or {}).get(t['field'])}>{_h(value)}@{deal.get('DATE_MODIFY')}"
        elif rule.kind == "stage_moved_back":
            past = idx.get(t["past"])
            here = idx.get(stage)
            if past is not None and here is not None and here < past <= furthest:
                occ = f"{stage}@{moved}"
                back = next((s for s in earlier if idx.get(s, -1) >= past), t["past"])
                extra = {"revert_to": back, "reason": _reason(ctx, t["past"])}
        if occ is not None and (applies(rule, deal, ctx) or ctx.unfinished(rule.id, deal_id, occ)):
            if rule.kind != "stage_moved_back" and any(a["type"] == "revert_move" for a in rule.actions):
                # an entry condition (required fields, documents): back to the stage it came from
                back = (_previous_stage(ctx, deal_id) if entity == ENTITY else None) or next(iter(earlier), None)
                extra = {"revert_to": back, "reason": model.text(rule.spec.get("title") or rule.id, ctx.lang)}
            acted = fire(ctx, rule, deal, occ, extra, stats)
            if acted and any(a["type"] == "revert_move" for a in rule.actions):
                refused = True
    furthest_stage = order[furthest] if order and 0 <= furthest < len(order) else (seen or {}).get("furthest")
    ctx.ledger.save_seen(entity, deal_id, {"stage": stage, "furthest": furthest_stage,
                                           "fields": {f: _h(deal.get(f)) for f in watched}})


def _previous_stage(ctx: Context, deal_id: int) -> str | None:
    """The stage the deal was in before its last move: ``previousStageId`` of crm.item.get (entityTypeId 2);
    crm.deal.get does not return PREVIOUS_STAGE_ID. Tells a move back that happened before we saw the
    deal in its later stage (the worker was down, or both moves came before the first event was read)."""
    item = (ctx.client.call("crm.item.get", {"entityTypeId": 2, "id": int(deal_id)}) or {}).get("item") or {}
    return item.get("previousStageId") or None


def _reason(ctx: Context, past: str) -> str:
    return (f"сделку нельзя вернуть на стадию раньше «{past}»" if ctx.lang == "ru"
            else f"a deal cannot go back before stage “{past}”")


def on_deal_event(services, member_id: str, payload: dict) -> None:
    """ONCRMDEALADD / ONCRMDEALUPDATE from the inbox. No event rules → no portal call at all."""
    _on_event(services, member_id, payload, ENTITY)


def on_lead_event(services, member_id: str, payload: dict) -> None:
    """ONCRMLEADADD / ONCRMLEADUPDATE: the lead rules (taken into work, the order-type task)."""
    _on_event(services, member_id, payload, "lead")


def _on_event(services, member_id: str, payload: dict, entity: str) -> None:
    doc = model.load(services.store.kv, member_id)
    if not [r for r in doc.by_kind(*EVENT_KINDS) if r.entity == entity]:
        return
    data = payload.get("data") or {}
    deal_id = str((data.get("FIELDS") or data.get("fields") or {}).get("ID") or "")
    if not deal_id.isdigit():
        return
    ctx = context(services, member_id, doc)
    try:
        deal = ctx.client.call(ENTITIES[entity]["get"], {"id": int(deal_id)})
    except B24Error as exc:                  # deleted meanwhile: nothing to evaluate
        if exc.status and exc.status < 500 and "not found" in str(exc.description or "").lower():
            return
        raise
    # the moment of the change as the portal recorded it: deadlines count from it, a number takes its year
    ctx.now = _parse_time(deal.get("DATE_MODIFY")) or ctx.now
    evaluate_deal(ctx, doc, deal, entity=entity)


# --- the scheduler ---------------------------------------------------------------------------------------
def _lower_bound(d: dict) -> timedelta:
    """The least calendar time a duration can take (to narrow the read; exactness comes after)."""
    if "business_days" in d:
        return timedelta(days=max(0, int(d["business_days"]) - 1))
    if "working_hours" in d:
        return timedelta(hours=float(d["working_hours"]))
    if "hours" in d:
        return timedelta(hours=float(d["hours"]))
    return timedelta(days=float(d["days"]))


def _iso(d: datetime) -> str:
    return d.astimezone(UTC).isoformat()


def _dues(cal, start: datetime, first: dict | None, repeat: dict | None) -> list[datetime]:
    due = cal.add(start, first) if first else start
    out = [due]
    for _ in range(int(repeat["times"]) - 1 if repeat else 0):
        due = cal.add(due, repeat["every"])
        out.append(due)
    return out


def _settled(ctx, rule) -> set:
    cache = ctx.__dict__.setdefault("_settled", {})
    if rule.id not in cache:
        cache[rule.id] = ctx.ledger.settled(rule.id, rule.entity)
    return cache[rule.id]


def _fire_due(ctx, rule, deal, dues: list[datetime], base_occ: str, stats: Stats) -> None:
    passed = [k for k, d in enumerate(dues, 1) if d <= ctx.now]
    if not passed:
        return
    last = passed[-1]
    settled = _settled(ctx, rule)
    if (int(deal["ID"]), f"{base_occ}#{last}"[:200]) in settled:
        return                          # the latest due occurrence is done already: nothing to write
    if not applies(rule, deal, ctx):      # an occurrence a restarted pass left half-done still finishes
        if ctx.unfinished(rule.id, int(deal["ID"]), f"{base_occ}#{last}"):
            fire(ctx, rule, deal, f"{base_occ}#{last}", {"n": last, "times": len(dues)}, stats)
        return
    missed = [(rule.id, rule.entity, int(deal["ID"]), o) for o in (f"{base_occ}#{k}" for k in passed[:-1])
              if (int(deal["ID"]), o[:200]) not in settled]
    if ctx.outbox is not None:
        ctx.__dict__.setdefault("_skips", []).extend(missed)     # written with the next flush, in one go
    else:
        stats.skipped += ctx.ledger.skip_rows(missed)
    fire(ctx, rule, deal, f"{base_occ}#{last}", {"n": last, "times": len(dues)}, stats)


def _names_head(rule: Rule) -> bool:
    return any("head" in [*a.get("to", []), a.get("responsible"), *a.get("auditors", []), *a.get("accomplices", [])]
               for a in rule.actions)


def _read(ctx: Context, rules: list[Rule], filt: dict, stats: Stats) -> list[dict]:
    """The rule's rows (keyset reads in batches); the heads its notifications need, fetched in one batch."""
    entity = rules[0].entity
    select = select_of(entity, set().union(*(r.fields() for r in rules)))
    if entity == "lead":
        filt = {k.replace("STAGE_ID", "STATUS_ID"): v for k, v in filt.items()}
    rows = [normalize(entity, row) for row in ctx.client.list_all(ENTITIES[entity]["list"],
                                                                   {"filter": filt, "select": select})]
    stats.read += len(rows)
    if any(_names_head(r) for r in rules):
        ctx.prefetch_heads(r.get("ASSIGNED_BY_ID") for r in rows)
    return rows


def _schedule_dues(cal, now: datetime, t: dict) -> list[datetime]:
    """Today's (local) moments of a schedule trigger that have passed, on a working day if it asks."""
    local = cal.local(now)
    if t.get("working_days", True) and not cal.is_working_day(local.date()):
        return []
    out = []
    for hhmm in t["at"]:
        h, m = (int(x) for x in hhmm.split(":"))
        at = local.replace(hour=h, minute=m, second=0, microsecond=0)
        if at <= local:
            out.append(at)
    return out


def _narrowing(rule: Rule) -> dict:
    """A list filter from the rule's stage conditions (all-match only): what a schedule reads."""
    if rule.match_any:
        return {}
    out = {}
    for c in rule.conditions:
        if c.get("field") == "STAGE_ID" and c["op"] in ("eq", "in"):
            out["STAGE_ID"] = c["value"]
    return out


def sweep(services, member_id: str, now: datetime | None = None) -> Stats:
    """One pass of the time-based rules. ``now`` is the injected clock (tests pass the sandbox's)."""
    stats = Stats()
    doc = model.load(services.store.kv, member_id)
    rules = doc.by_kind(*TIME_KINDS)
    if not rules:
        return stats
    ctx = context(services, member_id, doc, now)
    ctx.outbox = []
    ctx.__dict__["_stats"] = stats
    try:
        _pass(ctx, rules, stats, member_id)
    finally:
        flush(ctx)
    if stats.fired or stats.errors:
        log.info("rules sweep %s: fired %d, skipped %d, errors %d", member_id, len(stats.fired), stats.skipped,
                 len(stats.errors))
    return stats


def _pass(ctx: Context, rules: list[Rule], stats: Stats, member_id: str) -> None:
    cal = ctx.calendar
    for rule in rules:
        t = rule.trigger
        base = {"CATEGORY_ID": rule.category} if rule.category is not None else {}
        if rule.kind == "schedule":
            dues = _schedule_dues(cal, ctx.now, t)
            if not dues:
                continue
            day = cal.local(ctx.now).date().isoformat()
            for deal in _read(ctx, [rule], {**base, **_narrowing(rule)}, stats):
                try:
                    _fire_due(ctx, rule, deal, dues, f"schedule@{day}", stats)
                except Exception as exc:  # noqa: BLE001 - as below
                    log.warning("rules %s: rule %s on %s %s failed: %s", member_id, rule.id, rule.entity,
                                deal.get("ID"), exc)
                    stats.errors.append((rule.id, int(deal["ID"]), f"{type(exc).__name__}: {exc}"))
            continue
        if rule.kind == "time_in_stage":
            filt = {**base, "STAGE_ID": t["stage"], "<=MOVED_TIME": _iso(ctx.now - _lower_bound(t["after"]))}
        else:
            offset = t.get("offset")
            edge = ctx.now - (_lower_bound(offset) if offset else timedelta(0))
            span = sum((_lower_bound(t["repeat"]["every"]) for _ in range(t["repeat"]["times"])), timedelta(0)) \
                if t.get("repeat") else timedelta(0)
            filt = {**base, f"<={t['field']}": _iso(edge + timedelta(days=1)),
                    f">={t['field']}": _iso(edge - DATE_LOOKBACK - span)}
        for deal in _read(ctx, [rule], filt, stats):
            try:
                if rule.kind == "time_in_stage":
                    entered = _parse_time(deal.get("MOVED_TIME"))
                    if entered is None or deal.get("STAGE_ID") != t["stage"]:
                        continue
                    dues = _dues(cal, entered, t["after"], t.get("repeat"))
                    _fire_due(ctx, rule, deal, dues, f"{t['stage']}@{deal.get('MOVED_TIME')}", stats)
                else:
                    at = _parse_time(deal.get(t["field"]))
                    if at is None:
                        continue
                    dues = _dues(cal, at, t.get("offset"), t.get("repeat"))
                    _fire_due(ctx, rule, deal, dues, f"{t['field']}={deal.get(t['field'])}", stats)
            except Exception as exc:  # noqa: BLE001 - one deal's failure must not stop the pass; the ledger resumes it
                log.warning("rules %s: rule %s on deal %s failed: %s", member_id, rule.id, deal.get("ID"), exc)
                stats.errors.append((rule.id, int(deal["ID"]), f"{type(exc).__name__}: {exc}"))


def run(services, member_id: str) -> None:
    """The scheduler's periodic job: the time-based rules, then NPS answers the portal has not been told yet."""
    sweep(services, member_id)
    nps.apply_pending(services, member_id)
