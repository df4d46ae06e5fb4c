"""The paid gate: a deal cannot be won/closed until it is paid in full (seed 003: «Завершить Сделку в
системе можно только после того, как клиент полностью всё оплатит»), and a deal waiting for payment
moves on by itself once it is (that half lives in the sync, configured per pipeline in kv).

Bitrix24 has no "before stage change" hook for apps, so the gate acts after the fact: on
ONCRMDEALUPDATE it reads the deal, and a success-stage deal that is not paid in full goes back to the
last stage we saw it in (kept in our sync1c_deals table — the sandbox has no crm.stagehistory.list),
and its responsible user is told why. Our own move-back fires another update event, which then finds
a non-won stage and only records it: no loop.
"""
from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from b24app import guards
from b24app.errors import B24Error
from install.registry import installed_ids

from . import connection, sync
from .connection import GATE_KEY, KV_KEY
from .ledger_store import LedgerStore
from .odata import ODataError
from .payments import ledger_state

log = logging.getLogger("b24app.sync_1c.gate")
SUCCESS = "S"

MESSAGES = {
    "ru": "Сделка «{title}» [{id}] не может быть закрыта: оплачено {paid} из {total}. "
          "Сделка возвращена на предыдущую стадию; она закроется после полной оплаты в 1С.",
    "en": "Deal “{title}” [{id}] cannot be closed: {paid} of {total} paid. "
          "It was moved back to its previous stage; close it once 1C shows it paid in full.",
}
NO_ORDER = {
    "ru": "Сделка «{title}» [{id}] не может быть закрыта: в ней не указан номер заказа 1С, а в этой воронке "
          "закрываются только сделки, оплаченные по заказу 1С. Сделка возвращена на предыдущую стадию; укажите "
          "номер заказа 1С в сделке.",
    "en": "Deal “{title}” [{id}] cannot be closed: it has no 1C order number, and in this pipeline only deals "
          "paid by a 1C order may be closed. It was moved back to its previous stage; enter the deal's 1C order "
          "number.",
}
LINKED, ALL = "linked", "all"


def _dec(value) -> Decimal:
    try:
        return Decimal(str(value or 0).replace(",", "."))
    except InvalidOperation:
        return Decimal("0")


def paid_state(deal: dict, amount_field: str) -> tuple[Decimal, Decimal, bool]:
    """(paid, total, paid in full) from the deal's app-owned amount field and OPPORTUNITY. A deal with
    nothing to pay (OPPORTUNITY 0) is not held back."""
    paid, total = _dec(deal.get(amount_field)), _dec(deal.get("OPPORTUNITY"))
    return paid, total, total <= 0 or paid >= total


def scope_of(kv, member_id: str, category_id: int) -> str | None:
    """The gate's scope in one pipeline: "linked" (deals linked to a 1C order — the default), "all"
    (every deal of the pipeline: one without an order number cannot be closed) or None (no gate here).
    kv `sync_1c.gate`: {"enabled": bool, "categories": [ids] | null, "all_deals": bool,
    "scope": {CATEGORY_ID: "linked" | "all"}}."""
    cfg = kv.get(member_id, GATE_KEY) or {}
    if cfg.get("enabled", True) is False:
        return None
    cats = cfg.get("categories")
    if cats is not None and int(category_id) not in {int(c) for c in cats}:
        return None
    scope = (cfg.get("scope") or {}).get(str(int(category_id)))
    return scope if scope in (LINKED, ALL) else ALL if cfg.get("all_deals") else LINKED


def gated(kv, member_id: str, deal: dict, order_fields: tuple[str, ...] = ()) -> bool:
    """Which deals the gate holds. Default: those linked to a 1C order (number or key) — a measurement
    deal whose success stage is "contract signed" is not expected to be paid yet; "all" per pipeline."""
    scope = scope_of(kv, member_id, int(deal.get("CATEGORY_ID") or 0))
    return scope == ALL or (scope == LINKED and any(str(deal.get(f) or "").strip() for f in order_fields))


def previous_stage(ledger: LedgerStore, deal: dict, ids) -> str | None:
    """Last stage we saw; else the deal's PREVIOUS_STAGE_ID if the portal sends it; else the last
    process stage of a b24app pipeline before its success stage."""
    seen = (ledger.deal(int(deal["ID"])) or {}).get("last_stage")
    if seen and seen != deal.get("STAGE_ID"):
        return seen
    prev = deal.get("PREVIOUS_STAGE_ID")
    if prev and prev != deal.get("STAGE_ID"):
        return str(prev)
    pipeline = ids.pipeline_of_category(int(deal.get("CATEGORY_ID") or 0)) if ids else None
    if pipeline is None:
        return None
    stages = list(pipeline.stages)
    keys = [k for k in stages if pipeline.stage(k) == deal.get("STAGE_ID")]
    idx = stages.index(keys[0]) if keys else len(stages)
    return pipeline.stage(stages[idx - 1]) if idx > 0 else None


def bound_order(ledger: LedgerStore, deal: dict, ids) -> str | None:
    """The 1C order this deal is bound to (its key field, else what our sync recorded), unless an
    administrator bound that order to another deal."""
    key = str(deal.get(ids.deal_field("order_1c_key")) or "").strip().lower() \
        or (ledger.deal(int(deal["ID"])) or {}).get("order_key")
    if not key:
        return None
    pinned = (ledger.orders([key]).get(key) or {}).get("bound_deal")
    return None if pinned and int(pinned) != int(deal["ID"]) else key


def paid_by_ledger(ledger: LedgerStore, deal: dict, ids) -> Decimal | None:
    """Net paid for the deal's bound 1C order: 1C's own register total as last read, else our ledger of
    documents (stored before any portal write, so an auto-forward to a won stage is never mistaken for an
    unpaid close). None = not bound to an order."""
    key = bound_order(ledger, deal, ids)
    if not key:
        return None
    known = (ledger.orders([key]).get(key) or {}).get("paid_1c")
    if known is not None:
        return known
    st = ledger_state(ledger.payments_of_order(key)).get(key)
    return st.amount_paid if st else Decimal("0")


def paid_from_1c(services, member_id: str, deal: dict, ids, *, fetch: bool = True) -> tuple[Decimal, str]:
    """What the deal has been paid according to 1C, never the hand-editable amount field (1C is the
    system of record for money). (amount, source): "ledger" = our ledger for the bound order; "fetched"
    = the deal has an order number we had not matched yet, so its order was read from 1C now
    (`sync.run_for_deal`, a handful of requests); "unknown" = nothing known (no unique order, 1C down,
    another sync running) — which counts as unpaid, so an unmatched deal cannot be closed by typing
    a number into the amount field."""
    ledger = LedgerStore(services.store.engine, member_id)
    known = paid_by_ledger(ledger, deal, ids)
    if known is not None and fetch:
        # always ask 1C before deciding: its register (where the profile has one) covers money older than
        # the window, back-dated documents and moves the periodic sync has not seen yet
        try:
            fresh = sync.order_paid_now(services, member_id, bound_order(ledger, deal, ids))
        except (connection.NotConfigured, sync.SyncProblem, ODataError) as exc:
            log.info("paid gate: 1C register not read for deal %s of %s: %s", deal.get("ID"), member_id, exc)
            fresh = None
        if fresh is not None:
            return fresh, "register"
    if known is not None and (fetch is False or sync.has_register(services, member_id)):
        return known, "ledger"
    if fetch:
        try:
            state = sync.run_for_deal(services, member_id, deal).deals.get(int(deal["ID"]))
        except (connection.NotConfigured, sync.SyncProblem, sync.SyncIncomplete, ODataError) as exc:
            log.info("paid gate: 1C not read for deal %s of %s: %s", deal.get("ID"), member_id, exc)
            state = None
        if state is not None:
            return _dec(state["amount_paid"]), "fetched"
    return Decimal("0"), "unknown"


def enforce(services, member_id: str, deal_id: int) -> dict:
    """Check one deal; returns what was done: {"action": "recorded" | "moved_back" | "none", ...}."""
    ids = installed_ids(services.store, member_id)
    client = services.client(member_id)
    ledger = LedgerStore(services.store.engine, member_id)
    deal = client.call("crm.deal.get", {"id": int(deal_id)})
    stage = str(deal.get("STAGE_ID") or "")
    order_fields = (ids.deal_field("order_1c_number"), ids.deal_field("order_1c_key"))
    configured = bool(services.store.kv.get(member_id, KV_KEY))      # no 1C base: no gate (nothing could pass)
    if deal.get("STAGE_SEMANTIC_ID") != SUCCESS or not configured \
            or not gated(services.store.kv, member_id, deal, order_fields):
        ledger.save_deal(int(deal_id), last_stage=stage)
        return {"action": "recorded", "stage": stage}
    if not any(str(deal.get(f) or "").strip() for f in order_fields):
        # "all deals of this pipeline": without a 1C order nothing can show it paid
        paid, total, full, source, why = Decimal("0"), _dec(deal.get("OPPORTUNITY")), False, "no_order", "no_order"
    else:
        paid_1c, source = paid_from_1c(services, member_id, deal, ids)   # what 1C said, not a hand-edited field
        paid, total, full = paid_state({**deal, ids.deal_field("amount_paid"): paid_1c},
                                       ids.deal_field("amount_paid"))
        why = "unpaid"
    if full:
        ledger.save_deal(int(deal_id), last_stage=stage)
        return {"action": "none", "stage": stage, "source": source}
    back = previous_stage(ledger, deal, ids)
    portal = services.store.portals.get(member_id)
    lang = (portal.lang if portal else None) or "ru"
    user = deal.get("ASSIGNED_BY_ID") or (portal.user_id if portal else None)
    texts = NO_ORDER if why == "no_order" else MESSAGES
    msg = texts.get(lang, texts["en"]).format(title=deal.get("TITLE") or "", id=deal_id,
                                              paid=f"{paid:.2f}", total=f"{total:.2f}")
    # the one guard mechanism (b24app/guards.py): moved back once per move, whichever guard refuses it first
    guards.revert(services, member_id, client=client, entity="deal", row=deal, back=back, guard="sync_1c.paid_gate",
                  users=[int(user)] if user else [], message=msg)
    log.info("paid gate: deal %s of %s back to %s (%s of %s paid, %s)", deal_id, member_id, back, paid, total, why)
    return {"action": "moved_back", "stage": back, "paid": f"{paid:.2f}", "total": f"{total:.2f}", "source": source,
            "why": why}


def on_deal_update(services, member_id: str, payload: dict) -> None:
    data = payload.get("data") or {}
    fields = data.get("FIELDS") or data.get("fields") or {}
    deal_id = str(fields.get("ID") or "")
    if not deal_id.isdigit():
        return
    try:
        enforce(services, member_id, int(deal_id))
    except Exception as exc:  # a deal deleted meanwhile is not worth a retry storm
        if isinstance(exc, B24Error) and exc.status and exc.status < 500 and exc.code != "TRANSPORT_ERROR" \
                and "not found" in str(exc.description or "").lower():
            return
        raise


def paid_in_full(services, member_id: str, entity: str, deal: dict) -> bool | None:
    """The gate's verdict for b24app.guards' ``paid_in_full`` check: True = the gate lets this deal close
    (paid in full by 1C, or not held by the gate here); False = 1C shows it unpaid; None = no 1C base."""
    if entity != "deal" or not services.store.kv.get(member_id, KV_KEY):
        return None
    ids = installed_ids(services.store, member_id)
    order_fields = (ids.deal_field("order_1c_number"), ids.deal_field("order_1c_key"))
    if not gated(services.store.kv, member_id, deal, order_fields):
        return True
    if not any(str(deal.get(f) or "").strip() for f in order_fields):
        return False
    paid_1c, _source = paid_from_1c(services, member_id, deal, ids)
    return paid_state({**deal, ids.deal_field("amount_paid"): paid_1c}, ids.deal_field("amount_paid"))[2]


guards.provide("paid_in_full", paid_in_full)
