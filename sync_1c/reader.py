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
from decimal import Decimal

from .odata import EMPTY_GUID, ODataClient, ODataError, cast, dt, guid, string
from .payments import DEFAULT_TZ, Allocation, Payment, local_to_utc, to_decimal
from .profiles import COMPOSITE, REFERENCE, SETTLEMENT_OBJECT, PaymentSource, Profile

log = logging.getLogger(__name__)


def _counter(number) -> str | None:
    try:
        return numbers.parse(str(number or "")).counter
    except ValueError:
        return None


def _ref(value) -> str | None:
    s = str(value or "").strip().lower()
    return s if s and s != EMPTY_GUID else None


class PaymentReader:
    """Reads one infobase through one profile. Caches settlement objects and orders across calls (they
    are looked up by key, and a 1C `Ref_Key` never changes meaning)."""

    def __init__(self, client: ODataClient, profile: Profile, *, tz: str = DEFAULT_TZ, page_size: int = 200,
                 scan_page: int = 500):
        self.client, self.profile, self.tz, self.page_size = client, profile, tz, page_size
        self.scan_page = scan_page                        # pages of narrow rows (the order-state register)
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

    def count_hidden(self, start_local: datetime, end_local: datetime, *, budget: int = 300) -> tuple[int, bool]:
        """How many payment documents dated in `[start, end)` row-level security hides from this user.
        1C never lists them (`$allowedOnly`) and a `$count` without `$allowedOnly` fails with 401 / code 20
        as soon as one is in its range, so ranges that fail are halved down to one second (a second holding
        two hidden documents counts one). (count, exact): `exact` is False when `budget` requests ran out
        — then the count is a lower bound."""
        from datetime import timedelta

        total, exact = 0, True
        for source in self.profile.sources:
            ops = source.receipt_ops + source.refund_ops
            tail = ""
            if source.operation_field and ops:
                tail = " and (" + " or ".join(f"{source.operation_field} eq {string(o)}" for o in ops) + ")"
            stack = [(start_local.replace(microsecond=0), end_local.replace(microsecond=0))]
            while stack:
                a, b = stack.pop()
                if budget <= 0:
                    exact = False
                    total += 1 + len(stack)
                    break
                budget -= 1
                try:
                    self.client.count(source.entity_set, filter=f"Date ge {dt(a)} and Date lt {dt(b)}{tail}",
                                      allowed_only=False)
                    continue
                except ODataError as exc:
                    if exc.code != "20":
                        raise
                if b - a <= timedelta(seconds=1):
                    total += 1
                    continue
                mid = a + timedelta(seconds=(b - a).total_seconds() // 2)
                stack += [(mid, b), (a, mid)]
        return total, exact

    def reread(self, payments: Iterable[Payment]) -> tuple[list[Payment], list[str], list[str]]:
        """Fresh versions of known documents (by `Ref_Key`, per entity set), the keys that vanished
        (physically deleted in 1C: 404 / code 9) and the keys 1C now hides from this user (row-level
        security: a batched `$allowedOnly` lookup leaves them out, the entity itself answers 401 / code 20)
        — the weekly disappearance check for documents older than the window."""
        by_set: dict[str, list[str]] = {}
        for p in payments:
            by_set.setdefault(p.entity_set or "", []).append(p.ref_key)
        sources = {s.entity_set: s for s in self.profile.sources}
        docs, gone, hidden = [], [], []
        for entity_set, keys in by_set.items():
            source = sources.get(entity_set)
            if source is None:
                raise ValueError(f"{entity_set!r} is not a payment source of profile {self.profile.name}")
            found = self.client.get_by_keys(entity_set, keys, select=self.profile.select(source))
            found = {k.lower(): v for k, v in found.items()}
            for key in keys:
                if key.lower() in found:
                    docs.append((source, found[key.lower()]))
                    continue
                try:                               # gone, or hidden by row-level security?
                    self.client.get_entity(entity_set, key, select="Ref_Key")
                except ODataError as exc:
                    if exc.code == "20":
                        hidden.append(key)
                        continue
                    if exc.code != "9" and exc.status != 404:
                        raise
                    gone.append(key)
                else:
                    hidden.append(key)             # readable one by one but not in the list: keep it
        return self._to_payments(docs), gone, hidden

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

    def read_orders(self, orders: list[dict]) -> list[Payment]:
        """`read_order` for many orders at once: one `any(d: … or …)` query per payment set and per
        batch of orders that fits under the web server's query-string limit (go-live, reconciliation)."""
        p = self.profile
        conds = []
        for order in orders:
            okey = _ref(order.get("Ref_Key"))
            if okey is None:
                continue
            self._orders[okey] = order
            if p.link == SETTLEMENT_OBJECT:
                skey = _ref(order.get(p.order_settlement_field))
                if skey is None:
                    continue
                self._settlement[skey] = okey
                conds.append(f"d/{p.link_field} eq {guid(skey)}")
            elif p.link == COMPOSITE:
                conds.append(f"d/{p.link_field} eq {cast(okey, p.order_set)}")
            else:
                conds.append(f"d/{p.link_field} eq {guid(okey)}")
        docs: list[tuple[PaymentSource, dict]] = []
        seen: set[str] = set()

        def wrap(chunk):
            return f"{p.rows}/any(d: " + " or ".join(chunk) + ")"
        for source in p.sources:
            select = p.select(source)
            for chunk in self.client.pack(source.entity_set, conds, select=select, wrap=wrap,
                                          orderby="Date asc,Ref_Key asc", batch=20):
                for doc in self.client.iter_all(source.entity_set, filter=wrap(chunk), select=select,
                                                orderby="Date asc,Ref_Key asc", page_size=self.page_size):
                    if str(doc["Ref_Key"]).lower() not in seen:
                        seen.add(str(doc["Ref_Key"]).lower())
                        docs.append((source, doc))
        return self._to_payments(docs)

    def orders_by_key(self, keys: Iterable[str]) -> dict[str, dict]:
        """Order documents by `Ref_Key` (cached)."""
        keys = [k.lower() for k in keys if k]
        self._load_orders(keys)
        return {k: self._orders[k] for k in keys if k in self._orders}

    def order_paid(self, order_keys: Iterable[str]) -> dict[str, Decimal]:
        """1C's own paid total per order (`СуммаОплаты` of the order-state register), batched with a
        `cast(…)` per order under the query-string limit — or, when that would take more requests than
        reading the whole register page by page (go-live of a big base), the whole register; orders the
        register does not list (or hides) are left out. {} when the profile has no such register."""
        from .odata import or_filter
        from .payments import to_decimal

        p = self.profile
        keys = sorted({str(k).lower() for k in order_keys if k})
        if not p.state_register or not keys:
            return {}
        f = p.state_order_field
        select = f"{f},{f}_Type,{p.state_paid_field}"
        chunks = self.client.pack(p.state_register, [f"{f} eq {cast(k, p.order_set)}" for k in keys], select=select)
        rows: list[dict] = []
        if len(chunks) > 3 and self._scan_is_cheaper(p.state_register, None, len(chunks), self.scan_page):
            wanted = set(keys)
            rows = [r for r in self.client.iter_all(p.state_register, select=select, orderby=f"{f} asc",
                                                    page_size=self.scan_page) if str(r.get(f)).lower() in wanted]
            chunks = []
        for chunk in chunks:
            rows += self.client.query(p.state_register, filter=or_filter(chunk), select=select, top=len(chunk) * 4)
        return {str(r.get(f)).lower(): to_decimal(r.get(p.state_paid_field) or 0) for r in rows
                if r.get(f + "_Type") == p.order_type}

    def _scan_is_cheaper(self, entity_set: str, flt: str | None, batched_requests: int, page: int) -> bool:
        """One `$count` to decide between `batched_requests` key lookups and paging through all rows."""
        total = self.client.count(entity_set, filter=flt)
        return -(-total // page) + 1 < batched_requests

    def find_orders_many(self, wanted: list[tuple[str, int | None]]) -> list[dict]:
        """Orders for many typed numbers at once (go-live): per order year, `endswith(Number, counter)`
        terms or-ed under the query-string limit; the caller matches numbers and years exactly."""
        p = self.profile
        by_year: dict[int | None, set[str]] = {}
        for typed, year in wanted:
            try:
                counter = numbers.parse(typed).counter
            except ValueError:
                continue
            by_year.setdefault(year if p.number_restarts_yearly else None, set()).add(counter)
        out: dict[str, dict] = {}
        for year, counters in sorted(by_year.items(), key=lambda kv: kv[0] or 0):
            if p.number_restarts_yearly and year is None:
                continue
            head = ""
            if year is not None:
                start, end = numbers.year_window(year)
                head = f"{p.order_date_field} ge {dt(start)} and {p.order_date_field} lt {dt(end)} and "
            terms = [f"endswith({p.order_number_field}, {string(c)})" for c in sorted(counters)]

            def wrap(chunk, head=head):
                return head + "(" + " or ".join(chunk) + ")"
            orderby = f"{p.order_date_field} asc,Ref_Key asc"
            chunks = self.client.pack(p.order_set, terms, select=self._order_select(), wrap=wrap, orderby=orderby)
            span = head[:-len(" and ")] if head else None
            if len(chunks) > 3 and self._scan_is_cheaper(p.order_set, span, len(chunks), self.page_size):
                # many deals: the year's orders page by page (a sargable Date range) beat endswith() scans
                rows = (r for r in self.client.iter_all(p.order_set, filter=span, select=self._order_select(),
                                                        orderby=orderby, page_size=self.page_size)
                        if _counter(r.get(p.order_number_field)) in counters)
            else:
                rows = (r for chunk in chunks
                        for r in self.client.iter_all(p.order_set, filter=wrap(chunk), select=self._order_select(),
                                                      orderby=orderby, page_size=self.page_size))
            for row in rows:
                key = str(row["Ref_Key"]).lower()
                out[key] = row
                self._orders[key] = row
        return list(out.values())

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
