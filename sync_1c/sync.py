"""The payment sync of one portal: 1C → our ledger → desired deal state → only the differences to Bitrix24.

Why this shape (1c-odata.md §3.1–3.6):
* 1C has no change timestamps, so we re-read a sliding `Date` window with a generous look-back and
  compare each document with the version we hold (idempotent by `Ref_Key`); documents we hold inside
  the window that 1C no longer lists are re-read by key, and vanished ones become tombstones — so
  un-posting, deletion marks and physical deletion take back exactly what they added.
* The deal state (amount paid, paid in full, bound order key) is *recomputed* from the whole ledger and
  compared with what we last wrote, so a second run with no change in 1C writes nothing, and a crash
  or a 1C/portal failure half-way is repaired by the next run (nothing lost, nothing doubled): written
  state and "commented" marks are saved per successful command, the cursor only after all succeeded.
* Writes go out through `batch_many` (one HTTP call per 50 commands), only into fields the app owns,
  plus a forward-only stage move configured per pipeline (waiting for payment → paid).
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from b24app.outbound import OutboundGuard
from install.registry import installed_ids

from . import connection, matching, numbers
from .ledger_store import LedgerStore
from .odata import ODataError
from .payments import REFUND, Payment, ledger_state, unallocated, utc_to_local
from .reader import PaymentReader

log = logging.getLogger("b24app.sync_1c")
CENT = Decimal("0.01")
CHECK_TTL = 3600.0
BATCH = 50
RECONCILED_KEY = "sync_1c.reconciled_at"   # last reconciliation of open deals against 1C (UTC ISO)
HIDDEN_KEY = "sync_1c.hidden"              # {"count", "exact", "at"}: documents row-level security hides
_checked: dict[tuple, float] = {}            # (member_id, base_url, profile) → monotonic time of a clean check
_register_ok: dict[tuple, bool] = {}         # same key → the base publishes the profile's order-state register
_readers: dict[tuple, PaymentReader] = {}    # one per portal+base in this process: keeps the reader's
                                             # settlement-object and order caches between runs


class SyncProblem(RuntimeError):
    """The sync cannot run (connection check failed, another sync holds the lease); nothing written."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class SyncIncomplete(RuntimeError):
    """Some portal writes failed: what succeeded is recorded, the cursor is not moved; the next run
    (or the inbox retry) finishes the job without doubling anything."""


@dataclass
class SyncReport:
    window: tuple[str, str] | None = None
    read: int = 0
    changed: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    updates: int = 0
    comments: int = 0
    moved: list[int] = field(default_factory=list)
    review: int = 0
    hidden: int = 0                                            # documents 1C's row-level security hides
    requests_1c: int = 0
    deals: dict[int, dict] = field(default_factory=dict)       # deal id → desired state (all matched deals)
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)    # read_1c / match / write

    def as_dict(self) -> dict:
        return {"window": self.window, "read": self.read, "changed": len(self.changed), "gone": len(self.gone),
                "updates": self.updates, "comments": self.comments, "moved": self.moved, "review": self.review,
                "hidden": self.hidden}


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _fields(services, member_id: str) -> dict[str, str]:
    ids = installed_ids(services.store, member_id)
    return {k: ids.deal_field(k) for k in ("order_1c_number", "order_1c_key", "amount_paid", "paid_in_full")}


def ensure_checked(member_id: str, conn: connection.Connection, client) -> bool:
    """`$metadata` + profile check once per hour per process (it is big on a real base). Returns whether
    the base publishes the profile's order-state register (warnings are logged, the sync runs without)."""
    key = (member_id, conn.base_url, conn.profile)
    if time.monotonic() - _checked.get(key, -CHECK_TTL * 2) < CHECK_TTL:
        return _register_ok.get(key, True)
    problems, warnings = connection.check_full(conn, client)
    if problems:
        raise SyncProblem(problems)
    for w in warnings:
        log.warning("1C sync %s: %s", member_id, w)
    _register_ok[key] = not warnings
    _checked[key] = time.monotonic()
    return _register_ok[key]


def run(services, member_id: str, *, now: datetime | None = None, refs: list[str] | None = None,
        since: datetime | None = None, lease_seconds: float = 900) -> SyncReport:
    """One sync. `refs` (push: these Ref_Keys changed) or `since` (push: changed since) make a targeted
    pull that does not move the cursor; otherwise the sliding window from the cursor minus look-back."""
    conn = connection.load(services.store.kv, member_id)
    ledger = LedgerStore(services.store.engine, member_id)
    owner = uuid.uuid4().hex
    if not ledger.try_lease(owner, lease_seconds):
        raise SyncProblem(["another 1C sync of this portal is running"])
    try:
        return _run(services, member_id, conn, ledger, now or datetime.now(timezone.utc), refs, since)
    except (ODataError, SyncProblem) as exc:
        ledger.save_cursor(last_error=str(exc)[:2000])
        raise
    finally:
        ledger.release_lease(owner)


def _reader(services, member_id: str, conn: connection.Connection) -> PaymentReader:
    allow = getattr(services.settings, "outbound_allow", "")
    key = (member_id, conn.base_url, conn.username, conn.password, conn.profile, conn.tz, allow)
    reader = _readers.get(key)
    if reader is None:
        for old in [k for k in _readers if k[0] == member_id]:
            del _readers[old]
        reader = _readers[key] = PaymentReader(conn.client(OutboundGuard.from_settings(services.settings)),
                                               conn.profile_obj(), tz=conn.tz)
    if not ensure_checked(member_id, conn, reader.client) and reader.profile.state_register:
        reader.profile = replace(reader.profile, state_register=None)    # not published: documents only
    return reader


def _run(services, member_id, conn, ledger: LedgerStore, now, refs, since) -> SyncReport:
    reader = _reader(services, member_id, conn)
    profile = reader.profile
    kv = services.store.kv
    report = SyncReport()
    cursor = ledger.cursor()
    t0 = time.perf_counter()
    requests_before = reader.client.requests

    # 1. read 1C (any failure here raises before anything is stored)
    whole_window = refs is None and since is None
    go_live = whole_window and cursor["window_end"] is None
    reconcile = whole_window and (go_live or _due(kv, member_id, RECONCILED_KEY, now,
                                                 timedelta(hours=conn.reconcile_hours)))
    reread_all = False
    hidden_keys: list[str] = []
    start = None
    if refs is not None:
        fresh, gone = _read_refs(reader, ledger, [r.strip().lower() for r in refs if r and r.strip()])
    else:
        start = (since - timedelta(hours=1) if since
                 else (cursor["window_end"] or now) - timedelta(days=conn.lookback_days))
        report.window = (start.isoformat(), now.isoformat())
        fresh = reader.read_window(utc_to_local(start, conn.tz), utc_to_local(now, conn.tz))
        seen = {p.ref_key for p in fresh}
        missing = [p for p in ledger.held_in_window(start, now) if p.ref_key not in seen]
        if whole_window and _reread_due(kv, member_id, now, conn.reread_days):
            # documents older than the window can still be un-posted or deleted in 1C: re-read them now and then
            reread_all = True
            missing += [p for p in ledger.payments().values() if p.date < start and p.ref_key not in seen]
        gone = []
        if missing:
            again, gone_keys, hidden_keys = reader.reread(missing)
            fresh += again
            gone = [p for p in missing if p.ref_key in set(gone_keys)]

    # the portal's deals that carry a 1C order (number or key) — reconciliation needs their orders
    f = _fields(services, member_id)
    client = services.client(member_id)
    deals = matching.read_deals(client, f["order_1c_number"], f["order_1c_key"])
    ledger.save_stages({int(d["ID"]): str(d.get("STAGE_ID") or "") for d in deals})
    stored = ledger.orders()
    held = ledger.deals()
    extra: dict[str, dict] = {}                   # 1C orders read for open deals (go-live, reconciliation)
    history: set[str] = set()
    if reconcile:
        extra = _orders_of_open_deals(reader, deals, held, f, conn)
        dates = [d for o in extra.values() if (d := _naive(o.get(profile.order_date_field)))]
        if go_live and dates and min(dates) < utc_to_local(start, conn.tz):
            # go-live: the open deals' orders are older than the window — read their payments too (a
            # sargable Date range from the oldest such order; no timeline comment for this history)
            hist = reader.read_window(min(dates), utc_to_local(start, conn.tz))
            history = {p.ref_key for p in hist}
            fresh += hist
        report.hidden, exact = reader.count_hidden(utc_to_local(start, conn.tz), utc_to_local(now, conn.tz))
        kv.set(member_id, HIDDEN_KEY, {"count": report.hidden, "exact": exact, "at": now.isoformat()})
    else:
        report.hidden = int((kv.get(member_id, HIDDEN_KEY) or {}).get("count") or 0)
    report.read = len(fresh)
    report.seconds["read_1c"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()

    # 2. ledger: latest versions; vanished documents become tombstones (they count nothing); documents
    #    1C now hides from us (row-level security) are kept as they were
    before = ledger.payments()
    tombs = [replace(p, posted=False, deleted=True) for p in gone]
    report.changed = ledger.upsert_payments(fresh + tombs)
    report.gone = [p.ref_key for p in gone]
    if history:
        versions = ledger.versions()
        ledger.mark_commented([(r, versions[r][0]) for r in report.changed if r in history])
    payments = ledger.payments()
    touched = {a.order_key for ref in report.changed for p in (before.get(ref), payments.get(ref)) if p
               for a in p.allocations if a.order_key}

    # 3. orders → deals: orders of the ledger, orders bound before (so a deal whose money left is
    #    recomputed), orders read for open deals; an administrator's binding wins
    orders: dict[str, matching.Order] = {}

    def add(key, number, date):
        if key and key not in orders:
            orders[key] = matching.Order(key, number, date)
    for p in payments.values():
        for a in p.allocations:
            add(a.order_key, a.order_number, a.order_date)
    on_deals = {str(d.get(f["order_1c_key"]) or "").strip().lower() for d in deals} \
        | {h["order_key"] for h in held.values() if h.get("order_key")}
    for k, o in stored.items():
        if o["bound_deal"] or k in on_deals:
            add(k, o["number"], datetime.fromisoformat(o["order_date"]) if o["order_date"] else None)
    for k, o in extra.items():
        add(k, o.get(profile.order_number_field), _naive(o.get(profile.order_date_field)))
    pinned = {k: o["bound_deal"] for k, o in stored.items() if o["bound_deal"]}
    mkw = dict(number_field=f["order_1c_number"], key_field=f["order_1c_key"], tz=conn.tz,
               restarts_yearly=profile.number_restarts_yearly)
    held_keys = {did: h["order_key"] for did, h in held.items() if h.get("order_key") and h.get("written")}
    m = matching.match(list(orders.values()), deals, pinned=pinned, held=held_keys, **mkw)
    seconds = matching.second_deals(m, list(orders.values()), deals, held=held_keys, **mkw)
    deal_by_id = {int(d["ID"]): d for d in deals}
    open_ids = {int(d["ID"]) for d in deals if str(d.get("STAGE_SEMANTIC_ID") or "P") not in ("S", "F")}

    # 4. 1C's own paid total: every bound order at reconciliation, and any order a document of this run
    #    touched; where it differs from the documents, read that order's documents (history, moves)
    states = ledger_state(payments.values())
    bound = dict(m.deal_of)
    check = [k for k in bound if reconcile or k in touched]
    paid_1c = reader.order_paid(check) if check else {}
    if reconcile:
        differ = [k for k in bound if bound[k] in open_ids or k in touched]
        if profile.state_register:
            differ = [k for k in differ if k in paid_1c and paid_1c[k] != _ledger_paid(states, k)]
        elif go_live:
            differ = []                            # no register: the go-live history read is all we have
        if differ:
            docs = reader.read_orders(list(reader.orders_by_key(differ).values()))
            got = {p.ref_key for p in docs}
            lost = [p for k in differ for p in ledger.payments_of_order(k) if p.ref_key not in got]
            gone2: list[Payment] = []
            if lost:
                again, gone_keys, hidden2 = reader.reread(lost)
                docs += again
                hidden_keys += hidden2
                gone2 = [replace(p, posted=False, deleted=True) for p in lost if p.ref_key in set(gone_keys)]
            new = ledger.upsert_payments(docs + gone2)
            report.changed += [r for r in new if r not in report.changed]
            if go_live and start is not None:     # history before the go-live window: no timeline comment
                versions = ledger.versions()
                ledger.mark_commented([(r, versions[r][0]) for r in new
                                       if r in versions and next((p.date < start for p in docs
                                                                  if p.ref_key == r), False)])
            payments = ledger.payments()
            states = ledger_state(payments.values())
    ledger.save_orders([(k, {"number": orders[k].number, "order_date": orders[k].date.isoformat()
                             if orders[k].date else None, "paid_1c": paid_1c.get(k), "checked_at": now})
                        for k in check if k in orders])
    known_1c = {k: o["paid_1c"] for k, o in stored.items() if o["paid_1c"] is not None and k not in check}
    known_1c.update(paid_1c)

    review = dict(m.review)
    for p, a in unallocated(payments.values()):
        review[p.ref_key] = ("unallocated", {"payment": p.ref_key, "number": p.number, "amount": str(a.amount),
                                             "date": p.date.isoformat(), "why": "the payment names no order"})
    for key, st in states.items():
        if st.mixed_currencies:
            review[key] = ("currency", {"order_key": key, "why": "payments in several settlement currencies"})
    for okey, dids in seconds.items():
        o = orders[okey]
        review[okey] = ("duplicate", {"order_key": okey, "order_number": o.number,
                                      "order_date": o.date.isoformat() if o.date else None,
                                      "deals": [bound[okey], *dids], "bound_deal": bound[okey],
                                      "why": "an order binds to one deal: the other deals carrying its number "
                                             "are not paid by it"})
    for k, did in bound.items():
        if k in known_1c and k not in review and known_1c[k] != _ledger_paid(states, k):
            log.warning("1C sync %s: order %s — 1C's register says %s paid, the documents %s", member_id, k,
                        known_1c[k], _ledger_paid(states, k))
            review[f"{k}:difference"] = ("difference", {
                "order_key": k, "order_number": orders[k].number, "deals": [did],
                "paid_1c": money(known_1c[k]), "paid_documents": money(_ledger_paid(states, k)),
                "why": "1C's order-state register and the payment documents differ; the deal shows the register"})
    hidden_now = max(report.hidden, len(set(hidden_keys)))
    if hidden_now:
        exact = bool((kv.get(member_id, HIDDEN_KEY) or {}).get("exact", True))
        review["hidden"] = ("hidden", {"count": hidden_now, "exact": exact,
                                       "why": "row-level security in 1C hides payment documents from the OData "
                                              "user; give it the right to read them"})

    orders_of: dict[int, list[str]] = {}
    for okey, did in bound.items():
        orders_of.setdefault(did, []).append(okey)
    written = held
    forward = kv.get(member_id, connection.AUTO_FORWARD_KEY) or {}
    commands: list[tuple[str, dict]] = []
    after: list[tuple] = []                       # what to record when the matching command succeeded
    for did in sorted(set(orders_of) | {d for d, w in written.items() if d in deal_by_id and w.get("written")}):
        okeys = orders_of.get(did, [])
        deal = deal_by_id[did]
        if any(review.get(k, ("",))[0] == "currency" for k in okeys):
            continue
        paid = sum((known_1c[k] if k in known_1c else _ledger_paid(states, k) for k in okeys), Decimal("0"))
        total = Decimal(str(deal.get("OPPORTUNITY") or 0))
        full = bool(okeys) and total > 0 and paid >= total
        want = {"amount_paid": money(paid), "paid_in_full": "Y" if full else "N",
                "order_key": m.bind.get(did) or (okeys[0] if okeys else None)}
        report.deals[did] = {**want, "opportunity": money(total)}
        fields = {}
        if (written.get(did) or {}).get("written") != want:
            fields = {f["amount_paid"]: want["amount_paid"], f["paid_in_full"]: want["paid_in_full"]}
            if did in m.bind:
                fields[f["order_1c_key"]] = m.bind[did]
        to_stage = (forward.get(str(deal.get("CATEGORY_ID") or 0)) or {}).get(str(deal.get("STAGE_ID")))
        if full and to_stage:
            fields["STAGE_ID"] = to_stage
            report.moved.append(did)
        if fields:
            commands.append(("crm.deal.update", {"id": did, "fields": fields}))
            after.append(("deal", did, want, fields.get("STAGE_ID")))

    # 4. a timeline comment per new or changed payment, on the deal(s) its money went to
    portal = services.store.portals.get(member_id)
    lang = (portal.lang if portal else None) or "ru"
    for ref, (version, commented) in ledger.versions().items():
        if version == commented:
            continue
        p = payments[ref]
        dids = sorted({m.deal_of[a.order_key] for a in p.allocations if a.order_key in m.deal_of})
        if not dids and any(a.order_key in review for a in p.allocations):
            continue                               # comment once it is matched
        if commented is None and not p.counts:
            after.append(("mark", ref, version))   # never-counted draft: nothing to tell
            commands.append(None)
            continue
        for i, did in enumerate(dids):
            commands.append(("crm.timeline.comment.add", {"fields": {
                "ENTITY_ID": did, "ENTITY_TYPE": "deal",
                "COMMENT": comment_text(p, commented is not None, lang, conn.tz)}}))
            after.append(("comment", ref, version, i == len(dids) - 1))
        if not dids:
            after.append(("mark", ref, version))
            commands.append(None)
    # a note on every deal of an order claimed twice (ambiguous / second deal), once per deal
    for okey, (reason, detail) in review.items():
        if reason not in ("ambiguous", "duplicate") or len(detail.get("deals") or []) < 2:
            continue                               # (one deal claimed by several orders: nothing to tell)
        okeys = detail.get("orders") or [okey]
        for k in okeys:
            told = set((stored.get(k) or {}).get("noted") or [])
            for did in detail.get("deals") or []:
                if did in told or did not in deal_by_id:
                    continue
                o = orders.get(k)
                commands.append(("crm.timeline.comment.add", {"fields": {
                    "ENTITY_ID": did, "ENTITY_TYPE": "deal",
                    "COMMENT": claim_text(o.number if o else k, detail.get("deals") or [], reason, lang)}}))
                after.append(("noted", k, did))
                told.add(did)

    report.seconds["match"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    # 5. write in chunks of 50 (one batch call each), record per success right after each chunk, so a
    #    failure later on (portal down, token gone) never makes the retry repeat a comment
    failed, marks, real = [], [], 0
    noted = {k: list(o["noted"]) for k, o in stored.items()}
    pairs = list(zip(commands, after))
    for i in range(0, len(pairs), BATCH):
        chunk = pairs[i:i + BATCH]
        cmds = [c for c, _w in chunk if c is not None]
        real += len(cmds)
        results = iter(client.batch_many(cmds, halt=False) if cmds else [])
        saved: list[tuple[int, dict]] = []
        notes: dict[str, list] = {}
        for cmd, what in chunk:
            res = next(results) if cmd is not None else None
            if res is not None and not res.ok:
                failed.append(f"{cmd[0]}: {getattr(res.error, 'code', res.error)}")
                continue
            if what[0] == "deal":
                _kind, did, want, stage = what
                saved.append((did, {"written": want, "order_key": want["order_key"],
                                    **({"last_stage": stage} if stage else {})}))
                report.updates += 1
            elif what[0] == "comment":
                report.comments += 1
                if what[3]:
                    marks.append((what[1], what[2]))
            elif what[0] == "noted":
                noted.setdefault(what[1], []).append(what[2])
                notes[what[1]] = noted[what[1]]
                report.comments += 1
            else:
                marks.append((what[1], what[2]))
        ledger.save_deals(saved)
        ledger.mark_commented(marks)
        ledger.save_orders([(k, {"noted": v}) for k, v in notes.items()])
        marks = []
    report.seconds["write"] = round(time.perf_counter() - t0, 3)
    report.requests_1c = reader.client.requests - requests_before
    ledger.set_review(review)
    report.review = len(review)
    if failed:
        ledger.save_cursor(last_error=f"{len(failed)} portal write(s) failed: " + "; ".join(failed[:5]))
        raise SyncIncomplete(f"{len(failed)} of {real} portal writes failed")
    values = {"last_ok_at": now, "last_error": None, "stats": report.as_dict()}
    if whole_window:
        values["window_end"] = now
    if reread_all:
        kv.set(member_id, connection.REREAD_KEY, now.isoformat())
    if reconcile:
        kv.set(member_id, RECONCILED_KEY, now.isoformat())
    ledger.save_cursor(**values)
    log.info("1C sync %s: %s", member_id, report.as_dict())
    return report


def _naive(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _ledger_paid(states, key: str) -> Decimal:
    st = states.get(key)
    return st.amount_paid if st else Decimal("0")


def _due(kv, member_id: str, key: str, now: datetime, every: timedelta) -> bool:
    last = kv.get(member_id, key)
    return not last or now - datetime.fromisoformat(last) >= every


def _orders_of_open_deals(reader: PaymentReader, deals: list[dict], held: dict, f: dict, conn) -> dict[str, dict]:
    """Go-live / reconciliation: the 1C order of every open deal, not only of the window's payments —
    by the key we know, else by number within the deal's year (batched; only orders whose number a deal
    really carries are kept, the matching decides the rest)."""
    keyed, wanted = set(), []
    for d in deals:
        if str(d.get("STAGE_SEMANTIC_ID") or "P") in ("S", "F"):
            continue
        k = str(d.get(f["order_1c_key"]) or "").strip().lower() or (held.get(int(d["ID"])) or {}).get("order_key")
        if k:
            keyed.add(k)
        elif str(d.get(f["order_1c_number"]) or "").strip():
            wanted.append((str(d[f["order_1c_number"]]).strip(), matching.deal_year(d, conn.tz)))
    out = dict(reader.orders_by_key(keyed)) if keyed else {}
    if wanted:
        parsed = []
        for typed, year in wanted:
            try:
                parsed.append((numbers.parse(typed), year))
            except ValueError:
                continue
        p = reader.profile
        for o in reader.find_orders_many(wanted):
            try:
                n = numbers.parse(str(o.get(p.order_number_field) or ""))
            except ValueError:
                continue
            oy = _naive(o.get(p.order_date_field))
            if any(n.compatible(w) and (not p.number_restarts_yearly or (oy and oy.year == y)) for w, y in parsed):
                out[str(o["Ref_Key"]).lower()] = o
    return out


CLAIM = {
    "ru": "1С: заказ {number} указан в нескольких сделках ({deals}). Одна сделка — один заказ: пока администратор "
          "не выберет сделку в списке на проверку (настройки 1С), оплата по заказу не засчитывается {which}.",
    "en": "1C: order {number} is carried by several deals ({deals}). One deal per order: until an administrator "
          "binds it to one deal on the review list (1C settings), its payments do not count {which}.",
}
WHICH = {"ru": {"ambiguous": "ни одной из них", "duplicate": "никакой сделке, кроме первой"},
         "en": {"ambiguous": "for any of them", "duplicate": "for any deal but the first"}}


def claim_text(number: str, deals: list[int], reason: str, lang: str = "ru") -> str:
    lang = lang if lang in CLAIM else "en"
    return CLAIM[lang].format(number=number, deals=", ".join(f"#{d}" for d in deals), which=WHICH[lang][reason])


def run_for_deal(services, member_id: str, deal: dict, *, lease_seconds: float = 120) -> SyncReport:
    """The "sync payments now" robot: only this deal's 1C order — found by the deal's stored order key,
    else by its number within the deal's year (exactly one order, never a guess) — and only that order's
    payment documents (`PaymentReader.read_order`), then at most one batch to the portal. The periodic
    `run` stays the full path (window, disappearance checks, review list, binding keys on deals): this
    one binds nothing and leaves the review list and the cursor alone; a payment split over several
    orders gets its timeline comment from the periodic run, so no deal is told twice."""
    conn = connection.load(services.store.kv, member_id)
    ledger = LedgerStore(services.store.engine, member_id)
    owner = uuid.uuid4().hex
    if not ledger.try_lease(owner, lease_seconds):
        raise SyncProblem(["another 1C sync of this portal is running"])
    try:
        return _run_for_deal(services, member_id, conn, ledger, deal)
    finally:
        ledger.release_lease(owner)


def _run_for_deal(services, member_id, conn, ledger: LedgerStore, deal: dict) -> SyncReport:
    t0 = time.perf_counter()
    reader = _reader(services, member_id, conn)
    f = _fields(services, member_id)
    report = SyncReport()
    did = int(deal["ID"])
    key = str(deal.get(f["order_1c_key"]) or "").strip().lower() or (ledger.deal(did) or {}).get("order_key")
    order = reader.order_by_key(key) if key else None
    if order is None:
        number = str(deal.get(f["order_1c_number"]) or "").strip()
        year = matching.deal_year(deal, conn.tz)
        found = reader.find_orders(number, year) if number else []
        if len(found) != 1:
            report.problems.append(f"{len(found)} 1C orders match number {number!r} of {year}"
                                   if number else "the deal has no 1C order number")
            return report
        order = found[0]
    okey = str(order["Ref_Key"]).lower()
    claimed = _claimed_elsewhere(services, member_id, ledger, reader, f, conn, deal, order, by_number=not key)
    if claimed:                                    # one order, one deal: this one is never paid by it
        report.problems.append(claimed)
        report.deals[did] = {"amount_paid": money(Decimal("0")), "paid_in_full": "N", "order_key": None,
                             "opportunity": money(Decimal(str(deal.get("OPPORTUNITY") or 0))), "claimed": claimed}
        return report
    fresh = reader.read_order(order)
    seen = {p.ref_key for p in fresh}
    missing = [p for p in ledger.payments_of_order(okey) if p.ref_key not in seen]
    gone: list[Payment] = []
    if missing:                                    # moved to another order, or deleted in 1C
        again, gone_keys, _hidden = reader.reread(missing)
        fresh += again
        gone = [p for p in missing if p.ref_key in set(gone_keys)]
    report.read = len(fresh)
    report.seconds["read_1c"] = round(time.perf_counter() - t0, 3)
    report.changed = ledger.upsert_payments(fresh + [replace(p, posted=False, deleted=True) for p in gone])
    report.gone = [p.ref_key for p in gone]

    mine = {p.ref_key: p for p in ledger.payments_of_order(okey)}      # tombstones included
    st = ledger_state(mine.values()).get(okey)
    paid = st.amount_paid if st else Decimal("0")
    register = reader.order_paid([okey]).get(okey)                     # 1C's own total, where there is one
    if register is not None:
        ledger.save_orders([(okey, {"paid_1c": register, "checked_at": datetime.now(timezone.utc)})])
        paid = register
    total = Decimal(str(deal.get("OPPORTUNITY") or 0))
    full = total > 0 and paid >= total
    want = {"amount_paid": money(paid), "paid_in_full": "Y" if full else "N",
            "order_key": str(deal.get(f["order_1c_key"]) or "") or None}
    report.deals[did] = {**want, "opportunity": money(total)}
    commands, after = [], []
    fields = {}
    held = ledger.deal(did) or {}
    if held.get("order_key") != okey:
        ledger.save_deal(did, order_key=okey)      # the gate and check_paid read the order from here
    if held.get("written") != want:
        fields = {f["amount_paid"]: want["amount_paid"], f["paid_in_full"]: want["paid_in_full"]}
    forward = services.store.kv.get(member_id, connection.AUTO_FORWARD_KEY) or {}
    to_stage = (forward.get(str(deal.get("CATEGORY_ID") or 0)) or {}).get(str(deal.get("STAGE_ID")))
    if full and to_stage:
        fields["STAGE_ID"] = to_stage
        report.moved.append(did)
    if fields:
        commands.append(("crm.deal.update", {"id": did, "fields": fields}))
        after.append(("deal", want, fields.get("STAGE_ID")))
    portal = services.store.portals.get(member_id)
    lang = (portal.lang if portal else None) or "ru"
    versions = ledger.versions()
    marks = []
    for ref, p in sorted(mine.items()):
        version, commented = versions.get(ref, (None, None))
        if version is None or version == commented:
            continue
        if {a.order_key for a in p.allocations} - {okey}:
            continue                               # split over orders: the periodic run comments every deal
        if commented is None and not p.counts:
            marks.append((ref, version))
            continue
        commands.append(("crm.timeline.comment.add", {"fields": {
            "ENTITY_ID": did, "ENTITY_TYPE": "deal",
            "COMMENT": comment_text(p, commented is not None, lang, conn.tz)}}))
        after.append(("comment", ref, version))
    t0 = time.perf_counter()
    client = services.client(member_id)
    failed = []
    for (cmd, what), res in zip(zip(commands, after), client.batch_many(commands) if commands else []):
        if not res.ok:
            failed.append(f"{cmd[0]}: {getattr(res.error, 'code', res.error)}")
        elif what[0] == "deal":                    # our row knows the order (the gate reads it); the deal
            ledger.save_deal(did, written=what[1], order_key=okey,      # field is bound by the periodic run
                             **({"last_stage": what[2]} if what[2] else {}))
            report.updates += 1
        else:
            marks.append((what[1], what[2]))
            report.comments += 1
    ledger.mark_commented(marks)
    report.seconds["write"] = round(time.perf_counter() - t0, 3)
    if failed:
        raise SyncIncomplete(f"{len(failed)} of {len(commands)} portal writes failed: " + "; ".join(failed[:5]))
    return report


def _claimed_elsewhere(services, member_id, ledger: LedgerStore, reader: PaymentReader, f: dict, conn,
                       deal: dict, order: dict, *, by_number: bool = True) -> str | None:
    """Why this deal may not be paid by `order` although it names it: an administrator bound the order to
    another deal, another deal is bound to it already, or another unbound deal carries the same number
    (then nobody is paid until an administrator binds it) — that last check only when the order was found
    by the deal's number, not by a key the deal carries. None = the order is this deal's."""
    did, okey = int(deal["ID"]), str(order["Ref_Key"]).lower()
    pinned = (ledger.orders([okey]).get(okey) or {}).get("bound_deal")
    if pinned:
        return None if int(pinned) == did else f"the 1C order is bound to deal {pinned} by an administrator"
    for other, row in ledger.deals().items():
        if other != did and row.get("order_key") == okey and row.get("written"):
            return f"the 1C order is bound to deal {other}"
    client = services.client(member_id)
    select = ["ID", f["order_1c_number"], f["order_1c_key"], "DATE_CREATE"]
    by_key = [d for d in client.list_all("crm.deal.list", {"select": select, "filter": {f["order_1c_key"]: okey}},
                                         id_key="ID") if int(d["ID"]) != did]
    if by_key:
        return f"the 1C order is bound to deal {by_key[0]['ID']}"
    p = reader.profile
    if not by_number:
        return None
    try:
        wanted = numbers.parse(str(order.get(p.order_number_field) or ""))
    except ValueError:
        return None
    year = _naive(order.get(p.order_date_field))
    like = {"select": select, "filter": {f"%{f['order_1c_number']}": wanted.counter}}
    for d in client.list_all("crm.deal.list", like, id_key="ID"):
        if int(d["ID"]) == did or str(d.get(f["order_1c_key"]) or "").strip():
            continue
        try:
            n = numbers.parse(str(d.get(f["order_1c_number"]) or ""))
        except ValueError:
            continue
        if n.compatible(wanted) and (not p.number_restarts_yearly or
                                     (year and matching.deal_year(d, conn.tz) == year.year)):
            return f"deal {d['ID']} carries the same 1C order number: an administrator binds the order to one deal"
    return None


def count_hidden_now(services, member_id: str) -> int:
    """The connection check's count of payment documents row-level security hides in the look-back
    window (remembered for the review list until the next reconciliation)."""
    conn = connection.load(services.store.kv, member_id)
    reader = _reader(services, member_id, conn)
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=conn.lookback_days)
    count, exact = reader.count_hidden(utc_to_local(start, conn.tz), utc_to_local(now, conn.tz))
    services.store.kv.set(member_id, HIDDEN_KEY, {"count": count, "exact": exact, "at": now.isoformat()})
    return count


def has_register(services, member_id: str) -> bool:
    try:
        conn = connection.load(services.store.kv, member_id)
        published = _register_ok.get((member_id, conn.base_url, conn.profile), True)
        return bool(conn.profile_obj().state_register) and published
    except (connection.NotConfigured, KeyError):
        return False


def order_paid_now(services, member_id: str, order_key: str | None) -> Decimal | None:
    """1C's own paid total of one order, read now from the order-state register (the gate asks before
    it decides) and remembered; None when the profile has no register or 1C does not list the order."""
    if not order_key:
        return None
    conn = connection.load(services.store.kv, member_id)
    if not conn.profile_obj().state_register:
        return None
    reader = _reader(services, member_id, conn)
    if not reader.profile.state_register:
        return None
    paid = reader.order_paid([order_key]).get(order_key.lower())
    if paid is not None:
        LedgerStore(services.store.engine, member_id).save_orders(
            [(order_key, {"paid_1c": paid, "checked_at": datetime.now(timezone.utc)})])
    return paid


def _reread_due(kv, member_id: str, now: datetime, days: int) -> bool:
    last = kv.get(member_id, connection.REREAD_KEY)
    return days > 0 and (not last or now - datetime.fromisoformat(last) >= timedelta(days=days))


def _read_refs(reader: PaymentReader, ledger: LedgerStore, refs: list[str]) -> tuple[list[Payment], list[Payment]]:
    """Push path: the named documents, wherever they live; held ones that 1C no longer has are gone."""
    held = ledger.payments()
    docs, found = [], set()
    for source in reader.profile.sources:
        rows = reader.client.get_by_keys(source.entity_set, refs, select=reader.profile.select(source))
        for k, row in rows.items():
            if k.lower() not in found:
                found.add(k.lower())
                docs.append((source, row))
    fresh = reader._to_payments(docs)            # same package: the reader's row → Payment mapping
    gone = [held[r] for r in refs if r not in found and r in held]
    return fresh, gone


TEXTS = {
    "ru": {"receipt": "Оплата", "refund": "Возврат", "new": "получен(а) из 1С", "changed": "изменен(а) в 1С",
           "unposted": "проведение отменено", "deleted": "удален(а) в 1С", "doc": "документ", "storno": "Сторно"},
    "en": {"receipt": "Payment", "refund": "Refund", "new": "received from 1C", "changed": "changed in 1C",
           "unposted": "un-posted", "deleted": "deleted in 1C", "doc": "document", "storno": "Storno"},
}


def comment_text(p: Payment, changed: bool, lang: str = "ru", tz: str = "Europe/Moscow") -> str:
    t = TEXTS.get(lang, TEXTS["en"])
    what = t["refund"] if p.kind == REFUND else t["receipt"]
    status = t["deleted"] if p.deleted else t["unposted"] if not p.posted else t["changed"] if changed else t["new"]
    total = sum((a.amount for a in p.allocations), Decimal("0")) if p.allocations else p.amount
    if total < 0:                                  # a storno document (negated rows) takes the money back
        what, total = f"{t['storno']} ({what.lower()})", -total
    amount = money(total)
    local = p.date.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y")
    return f"1С: {what} {amount} ({t['doc']} {p.number or p.ref_key} {local}) — {status}"
