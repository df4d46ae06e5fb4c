"""Profile-driven reading of payments and orders from 1C into the pure `payments` model.

The shape follows 1c-odata.md §3.1/§3.6: documents are read in a bounded local-time `Date` window
*without* filtering `Posted`/`DeletionMark` (so un-posting and deletion marks are seen and retract money),
`$select`ed, paged by `Date asc,Ref_Key asc`; row links are resolved to orders with batched, cached key
lookups rather than `$expand` (cheaper on a big base). Nothing here writes to 1C or to Bitrix24.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from . import numbers
from .odata import EMPTY_GUID, ODataClient, cast, dt, guid, string
from .payments import DEFAULT_TZ, Allocation, Payment, local_to_utc, to_decimal
from .profiles import COMPOSITE, REFERENCE, SETTLEMENT_OBJECT, PaymentSource, Profile

log = logging.getLogger(__name__)


def _ref(value) -> str | None:
    s = str(value or "").strip().lower()
    return s if s and s != EMPTY_GUID else None


class PaymentReader:
    """Reads one infobase through one profile. Caches settlement objects and orders across calls (they
    are looked up by key, and a 1C `Ref_Key` never changes meaning)."""

    def __init__(self, client: ODataClient, profile: Profile, *, tz: str = DEFAULT_TZ, page_size: int = 200):
        self.client, self.profile, self.tz, self.page_size = client, profile, tz, page_size
        self._settlement: dict[str, str | None] = {}     # settlement object → order Ref_Key (or None)
        self._orders: dict[str, dict] = {}

    # --- payments -----------------------------------------------------------------------------------
    def read_window(self, start_local: datetime, end_local: datetime) -> list[Payment]:
        """Every customer payment/refund document dated in `[start, end)` (naive 1C local time), in any
        posting state. Use an overlapping look-back window: bank statements arrive days late."""
        docs: list[tuple[PaymentSource, dict]] = []
        for source in self.profile.sources:
            flt = f"Date ge {dt(start_local)} and Date lt {dt(end_local)}"
            ops = source.receipt_ops + source.refund_ops
            if source.operation_field and ops:
                flt += " and (" + " or ".join(f"{source.operation_field} eq {string(o)}" for o in ops) + ")"
            for doc in self.client.iter_all(source.entity_set, filter=flt, select=self.profile.select(source),
                                            orderby="Date asc,Ref_Key asc", page_size=self.page_size):
                docs.append((source, doc))
        return self._to_payments(docs)

    def reread(self, payments: Iterable[Payment]) -> tuple[list[Payment], list[str]]:
        """Fresh versions of known documents (by `Ref_Key`, per entity set) and the keys that vanished
        (physically deleted in 1C) — the weekly disappearance check for documents older than the window."""
        by_set: dict[str, list[str]] = {}
        for p in payments:
            by_set.setdefault(p.entity_set or "", []).append(p.ref_key)
        sources = {s.entity_set: s for s in self.profile.sources}
        docs, gone = [], []
        for entity_set, keys in by_set.items():
            source = sources.get(entity_set)
            if source is None:
                raise ValueError(f"{entity_set!r} is not a payment source of profile {self.profile.name}")
            found = self.client.get_by_keys(entity_set, keys, select=self.profile.select(source))
            found = {k.lower(): v for k, v in found.items()}
            for key in keys:
                if key.lower() in found:
                    docs.append((source, found[key.lower()]))
                else:
                    gone.append(key)
        return self._to_payments(docs), gone

    def _to_payments(self, docs: list[tuple[PaymentSource, dict]]) -> list[Payment]:
        rows_of = {id(doc): list(doc.get(self.profile.rows) or []) for _s, doc in docs}
        self._resolve_settlement_objects(r for rows in rows_of.values() for r in rows)
        links = {id(r): self._order_of(r) for rows in rows_of.values() for r in rows}
        self._load_orders(k for k in links.values() if k)
        out = []
        for source, doc in docs:
            op = doc.get(source.operation_field) if source.operation_field else None
            kind = source.kind_of(op)
            if kind is None:
                continue                                   # not a customer payment (supplier, transfer…)
            currency = _ref(doc.get(source.currency_field))
            allocations = tuple(self._allocation(r, links[id(r)], currency) for r in rows_of[id(doc)])
            amount = to_decimal(doc.get(source.amount_field) or 0)
            if not allocations:
                allocations = (Allocation(amount=amount, currency=currency),)
            out.append(Payment(
                ref_key=str(doc["Ref_Key"]).lower(), kind=kind, amount=amount,
                date=local_to_utc(doc["Date"], self.tz), posted=bool(doc.get(self.profile.posted_field)),
                deleted=bool(doc.get(self.profile.deleted_field)), currency=currency,
                number=doc.get("Number"), entity_set=source.entity_set, data_version=doc.get("DataVersion"),
                allocations=allocations))
        return out

    def _allocation(self, row: dict, order_key: str | None, header_currency: str | None) -> Allocation:
        order = self._orders.get(order_key) if order_key else None
        date = order.get(self.profile.order_date_field) if order else None
        currency = _ref(row.get(self.profile.row_currency)) if self.profile.row_currency else None
        return Allocation(
            amount=to_decimal(row.get(self.profile.row_amount) or 0), order_key=order_key,
            order_number=order.get(self.profile.order_number_field) if order else None,
            order_date=datetime.fromisoformat(date) if date else None,
            currency=currency or header_currency,
            line_number=int(row["LineNumber"]) if row.get("LineNumber") not in (None, "") else None)

    # --- links --------------------------------------------------------------------------------------
    def _order_of(self, row: dict) -> str | None:
        p = self.profile
        order = None
        if p.link == SETTLEMENT_OBJECT:
            order = self._settlement.get(_ref(row.get(p.link_field)) or "")
        elif p.link == COMPOSITE:
            if row.get(p.link_field + "_Type") == p.order_type:
                order = _ref(row.get(p.link_field))
        elif p.link == REFERENCE:
            order = _ref(row.get(p.link_field))
        if order is None and p.fallback_field and row.get(p.fallback_field + "_Type") == p.order_type:
            order = _ref(row.get(p.fallback_field))
        return order

    def _resolve_settlement_objects(self, rows: Iterable[dict]) -> None:
        if self.profile.link != SETTLEMENT_OBJECT:
            return
        wanted = {k for r in rows if (k := _ref(r.get(self.profile.link_field))) and k not in self._settlement}
        if not wanted:
            return
        found = self.client.get_by_keys(self.profile.settlement_set, wanted, select="Ref_Key,Объект,Объект_Type")
        found = {k.lower(): v for k, v in found.items()}
        for key in wanted:
            obj = found.get(key)
            is_order = obj is not None and obj.get("Объект_Type") == self.profile.order_type
            self._settlement[key] = _ref(obj.get("Объект")) if is_order else None

    def _order_select(self) -> str:
        p = self.profile
        fields = ["Ref_Key", p.order_number_field, p.order_date_field, p.posted_field, p.deleted_field,
                  p.order_amount_field, p.order_currency_field]
        if p.link == SETTLEMENT_OBJECT:
            fields.append(p.order_settlement_field)
        return ",".join(fields)

    # --- one order ----------------------------------------------------------------------------------
    def order_by_key(self, key: str) -> dict | None:
        rows = self.client.get_by_keys(self.profile.order_set, [key], select=self._order_select())
        return next(iter(rows.values()), None)

    def read_order(self, order: dict) -> list[Payment]:
        """Every payment/refund document with a row for this order, in any posting state — one
        `РасшифровкаПлатежа/any(...)` query per payment entity set (1c-odata.md §1.9 step 6), for the
        "sync payments now" robot: it costs a handful of requests however big the base is. Rows linked only
        through the fallback field (`ОснованиеПлатежа`) are left to the periodic window read."""
        p = self.profile
        okey = _ref(order.get("Ref_Key"))
        if okey is None:
            return []
        self._orders[okey] = order
        if p.link == SETTLEMENT_OBJECT:
            skey = _ref(order.get(p.order_settlement_field))
            if skey is None:
                return []
            self._settlement[skey] = okey
            cond = f"d/{p.link_field} eq {guid(skey)}"
        elif p.link == COMPOSITE:
            cond = f"d/{p.link_field} eq {cast(okey, p.order_set)}"
        else:
            cond = f"d/{p.link_field} eq {guid(okey)}"
        docs: list[tuple[PaymentSource, dict]] = []
        for source in p.sources:
            for doc in self.client.iter_all(source.entity_set, filter=f"{p.rows}/any(d: {cond})",
                                            select=p.select(source), orderby="Date asc,Ref_Key asc",
                                            page_size=self.page_size):
                docs.append((source, doc))
        return self._to_payments(docs)

    def _load_orders(self, keys: Iterable[str]) -> None:
        wanted = {k for k in keys if k not in self._orders}
        if wanted:
            found = self.client.get_by_keys(self.profile.order_set, wanted, select=self._order_select())
            self._orders.update({k.lower(): v for k, v in found.items()})

    # --- orders ---------------------------------------------------------------------------------------
    def find_orders(self, typed_number: str, year: int | None) -> list[dict]:
        """Orders whose number is compatible with what a human typed, within the order year when numbers
        restart yearly. More than one result is an ambiguity for a person to resolve, never a guess."""
        p = self.profile
        wanted = numbers.parse(typed_number)
        flt = f"endswith({p.order_number_field}, {string(wanted.counter)})"
        if p.number_restarts_yearly:
            if year is None:
                raise ValueError("this base restarts order numbers yearly: the year is needed")
            start, end = numbers.year_window(year)
            flt = f"{p.order_date_field} ge {dt(start)} and {p.order_date_field} lt {dt(end)} and " + flt
        rows = self.client.iter_all(p.order_set, filter=flt, select=self._order_select(),
                                    orderby=f"{p.order_date_field} asc,Ref_Key asc", page_size=self.page_size)
        out = []
        for row in rows:
            try:
                if numbers.parse(row[p.order_number_field]).compatible(wanted):
                    out.append(row)
            except ValueError:
                continue
        return out
