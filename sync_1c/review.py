"""The review list's actions: an administrator binds a 1C order that several deals carry to one of them.

Why a binding of our own: an order binds to at most one deal (issue 13), and when two deals carry the same
number the sync never guesses — neither is paid by the order until a person decides. The choice is kept in
sync1c_orders.bound_deal; it wins over numbers and keys in matching, the next sync writes the order key on
the chosen deal and the others stay unpaid (second deals, still listed). Only what the review list offers
can be chosen: an order listed as claimed by several deals, and one of those deals.
"""
from __future__ import annotations

import uuid

from b24app.errors import SettingsError, said

from .ledger_store import LedgerStore

CLAIMED = ("ambiguous", "duplicate")


def bind(engine, member_id: str, body) -> dict:
    if not isinstance(body, dict):
        raise SettingsError(said('a JSON object {"order_key": "…", "deal_id": 123} is expected',
                                 'нужен JSON-объект {"order_key": "…", "deal_id": 123}'), path="bind")
    try:
        key = str(uuid.UUID(str(body.get("order_key") or "")))
    except ValueError:
        raise SettingsError(said("order_key must be the 1C order's Ref_Key (a GUID)",
                                 "order_key — Ref_Key заказа 1С (GUID)"), path="order_key") from None
    deal = body.get("deal_id")
    if isinstance(deal, bool) or not str(deal).isdigit():
        raise SettingsError(said("deal_id must be a deal ID (a whole number)", "deal_id — ID сделки (целое число)"),
                            path="deal_id")
    deal = int(deal)
    ledger = LedgerStore(engine, member_id)
    item = next((i for i in ledger.review() if i["reason"] in CLAIMED and
                 key in ([i["detail"].get("order_key")] + list(i["detail"].get("orders") or []))), None)
    if item is None:
        raise SettingsError(said("this 1C order is not on the review list as carried by several deals",
                                 "этого заказа 1С нет в списке на разбор как указанного в нескольких сделках"),
                            path="order_key")
    deals = [int(d) for d in item["detail"].get("deals") or []]
    if deal not in deals:
        listed = ", ".join(str(d) for d in deals)
        raise SettingsError(said(f"deal {deal} is not one of the deals carrying this order: {listed}",
                                 f"сделка {deal} не из тех, где указан этот заказ: {listed}"), path="deal_id")
    ledger.save_orders([(key, {"bound_deal": deal})])
    return {"order_key": key, "deal_id": deal, "deals": deals}
