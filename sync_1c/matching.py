"""1C order → Bitrix24 deal, decided once per sync for all orders at once (no portal call per payment).

Order of evidence (1c-odata.md §3.5, §3.6 step 4):
1. the deal's stored 1C order key (`order_1c_key`) — exact, set by us after a confirmed match or by
   whoever created the order;
2. otherwise the order number a manager typed into the deal (`order_1c_number`), normalised and
   compared by `numbers.parse(...).compatible`, within the order's year when numbering restarts yearly
   (the deal's year is the local year of its creation date).
Several candidate deals, or none, put the order on the review list: a person decides, we never guess.
A deal that matched by number gets the order key written back (`bind`), so the next sync is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from . import numbers

DEAL_SELECT_BASE = ["ID", "TITLE", "OPPORTUNITY", "CURRENCY_ID", "STAGE_ID", "CATEGORY_ID", "ASSIGNED_BY_ID",
                    "DATE_CREATE", "STAGE_SEMANTIC_ID"]


@dataclass
class Order:
    key: str
    number: str | None
    date: datetime | None           # naive local (as 1C shows it)


@dataclass
class MatchResult:
    deal_of: dict[str, int] = field(default_factory=dict)          # order key → deal id
    bind: dict[int, str] = field(default_factory=dict)             # deal id → order key to write on the deal
    review: dict[str, tuple[str, dict]] = field(default_factory=dict)   # order key → (reason, detail)


def deal_year(deal: dict, tz: str) -> int | None:
    raw = str(deal.get("DATE_CREATE") or "")
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(tz))
    return when.year


def read_deals(client, number_field: str, key_field: str, extra: list[str] = ()) -> list[dict]:
    """Every deal that carries a 1C order number, read with keyset paging (≈ N/2500 + 1 calls). A deal
    we bound by key always has its number too; one whose number a person cleared is unlinked on purpose."""
    select = DEAL_SELECT_BASE + [number_field, key_field, *extra]
    return list(client.list_all("crm.deal.list", {"select": select, "filter": {f"!{number_field}": ""}},
                                id_key="ID"))


def match(orders: list[Order], deals: list[dict], *, number_field: str, key_field: str, tz: str,
          restarts_yearly: bool = True, pinned: dict[str, int] | None = None,
          held: dict[int, str] | None = None) -> MatchResult:
    """`pinned`: order key → deal id an administrator bound it to (the review list's button); it wins
    over keys and numbers, and that deal takes no other order. `held`: deal id → order key our own
    records bind it to (the scoped sync paid it by that order) for deals whose key field is still empty —
    as good as the key on the deal, and written there (`bind`) once it is the deal's alone."""
    res = MatchResult()
    held = {int(k): v for k, v in (held or {}).items() if v}
    pinned = {k: int(v) for k, v in (pinned or {}).items()}
    present = {int(d["ID"]) for d in deals}
    for okey, did in pinned.items():
        if did in present:
            res.deal_of[okey] = did
            if str(next(d for d in deals if int(d["ID"]) == did).get(key_field) or "").strip().lower() != okey:
                res.bind[did] = okey
    taken = set(res.deal_of.values())
    deals = [d for d in deals if int(d["ID"]) not in taken]
    orders = [o for o in orders if o.key not in res.deal_of]
    by_key: dict[str, list[dict]] = {}
    by_counter: dict[str, list[tuple[numbers.OrderNumber, int | None, dict]]] = {}
    for d in deals:
        k = str(d.get(key_field) or "").strip().lower() or held.get(int(d["ID"]), "")
        if k:
            by_key.setdefault(k, []).append(d)
        raw = str(d.get(number_field) or "").strip()
        if raw:
            try:
                n = numbers.parse(raw)
            except ValueError:
                continue
            by_counter.setdefault(n.counter, []).append((n, deal_year(d, tz), d))
    for o in orders:
        exact = by_key.get(o.key, [])
        if len(exact) == 1:
            res.deal_of[o.key] = int(exact[0]["ID"])
            if not str(exact[0].get(key_field) or "").strip():
                res.bind[int(exact[0]["ID"])] = o.key
            continue
        if len(exact) > 1:
            res.review[o.key] = ("ambiguous", _detail(o, exact, "several deals carry this 1C order key"))
            continue
        if not o.number:
            res.review[o.key] = ("unmatched", _detail(o, [], "the 1C order has no number"))
            continue
        try:
            wanted = numbers.parse(o.number)
        except ValueError:
            res.review[o.key] = ("unmatched", _detail(o, [], "the 1C order number cannot be parsed"))
            continue
        year = o.date.year if o.date else None
        cands = [d for n, y, d in by_counter.get(wanted.counter, [])
                 if n.compatible(wanted) and (not restarts_yearly or y == year)
                 and not str(d.get(key_field) or "").strip()          # a bound deal belongs to its order
                 and int(d["ID"]) not in held]
        if len(cands) == 1:
            did = int(cands[0]["ID"])
            res.deal_of[o.key] = did
            res.bind[did] = o.key
        elif cands:
            res.review[o.key] = ("ambiguous", _detail(o, cands, "several deals carry this order number"))
        else:
            res.review[o.key] = ("unmatched", _detail(o, [], "no deal carries this order number"))
    # two orders claiming one deal by number (e.g. the year is unknown): neither is bound
    claimed: dict[int, list[str]] = {}
    for okey, did in res.deal_of.items():
        claimed.setdefault(did, []).append(okey)
    for did, okeys in claimed.items():
        if len(okeys) > 1:
            for okey in okeys:
                if pinned.get(okey) == did:
                    continue
                res.deal_of.pop(okey, None)
                res.review[okey] = ("ambiguous", {"deals": [did], "orders": okeys,
                                                  "why": "several 1C orders point at one deal"})
            res.bind.pop(did, None)
    return res


def second_deals(res: MatchResult, orders: list[Order], deals: list[dict], *, number_field: str, key_field: str,
                 tz: str, restarts_yearly: bool = True, held: dict[int, str] | None = None) -> dict[str, list[int]]:
    """An order binds to at most one deal: the other deals that carry a bound order's key, or a number
    (and year) compatible with it, are second deals — never paid by that order. order key → deal ids."""
    bound_deals = set(res.deal_of.values())
    by_counter: dict[str, list[tuple[numbers.OrderNumber, int | None, str]]] = {}
    for o in orders:
        if o.key in res.deal_of and o.number:
            try:
                n = numbers.parse(o.number)
            except ValueError:
                continue
            by_counter.setdefault(n.counter, []).append((n, o.date.year if o.date else None, o.key))
    out: dict[str, list[int]] = {}
    for d in deals:
        did = int(d["ID"])
        if did in bound_deals:
            continue
        key = str(d.get(key_field) or "").strip().lower() or (held or {}).get(did, "")
        if key in res.deal_of:
            out.setdefault(key, []).append(did)
            continue
        try:
            n = numbers.parse(str(d.get(number_field) or ""))
        except ValueError:
            continue
        year = deal_year(d, tz)
        for on, oy, okey in by_counter.get(n.counter, []):
            if on.compatible(n) and (not restarts_yearly or oy == year):
                out.setdefault(okey, []).append(did)
    return out


def _detail(o: Order, deals: list[dict], why: str) -> dict:
    return {"order_key": o.key, "order_number": o.number, "order_date": o.date.isoformat() if o.date else None,
            "deals": [int(d["ID"]) for d in deals], "why": why}
