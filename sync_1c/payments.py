"""Payments as money facts, independent of how they were read: the pure model and the per-order ledger.

Rules (1c-odata.md §3.2–3.4):
* a payment document is identified by its `Ref_Key`; reading it again *replaces* what we knew, so a
  document that was un-posted, deletion-marked or physically deleted stops counting on the next read —
  the ledger is recomputed from the latest state of every document, never incremented;
* only `Posted and not DeletionMark` documents count;
* refunds are subtracted from what was received (the net paid is what 1C's own
  `СостоянияЗаказовКлиентов.СуммаОплаты` shows); `refunds="ignore"` keeps them out entirely;
* money is `Decimal` end to end; the order's amount is the settlement amount (`СуммаВзаиморасчетов`,
  in the order's currency), not the payment currency's `Сумма`;
* 1C dates are naive local wall-clock time of the infobase: attach its IANA zone, keep UTC inside.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Europe/Moscow"
RECEIPT = "receipt"
REFUND = "refund"
_EMPTY_DATE = "0001-01-01T00:00:00"


# --- conversions ----------------------------------------------------------------------------------------
def to_decimal(value) -> Decimal:
    """Money/number from what 1C sends: JSON numbers (already Decimal if decoded by our client), floats,
    or strings (`Edm.Int64` arrives as `"1"`). Floats go through `str` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, float):
        return Decimal(str(value))
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def local_to_utc(value: str | datetime | None, tz: str = DEFAULT_TZ) -> datetime | None:
    """A 1C `Edm.DateTime` (naive local, e.g. "2025-03-03T11:42:17") as an aware UTC datetime.
    The empty date "0001-01-01T00:00:00" is None."""
    if value is None or value == "" or value == _EMPTY_DATE:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        if value.year == 1:
            return None
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(timezone.utc)


def utc_to_local(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """An aware datetime as the naive wall-clock time 1C expects in `datetime'…'` filter literals."""
    if value.tzinfo is None:
        raise ValueError("utc_to_local needs an aware datetime")
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


# --- model ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Allocation:
    """One row of `РасшифровкаПлатежа` resolved to an order (or not: `order_key` None = unallocated —
    an advance, a contract-level settlement — which belongs to the counterparty, not to a deal)."""

    amount: Decimal
    order_key: str | None = None
    order_number: str | None = None
    order_date: datetime | None = None        # naive local, as 1C shows it (for the number's year)
    currency: str | None = None               # settlement currency key
    line_number: int | None = None


@dataclass(frozen=True)
class Payment:
    """One payment document as last read from 1C.

    `amount` is the document total in the payment currency; `allocations` split it per order in the
    settlement currency. `Payment.single(...)` builds the common one-order case.
    """

    ref_key: str
    kind: str                                   # RECEIPT | REFUND
    amount: Decimal
    date: datetime                              # aware UTC
    posted: bool = True
    deleted: bool = False                       # DeletionMark
    currency: str | None = None
    number: str | None = None
    entity_set: str | None = None
    data_version: str | None = None
    allocations: tuple[Allocation, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.kind not in (RECEIPT, REFUND):
            raise ValueError(f"payment kind must be {RECEIPT!r} or {REFUND!r}, not {self.kind!r}")
        if not isinstance(self.amount, Decimal):
            raise TypeError("Payment.amount must be a Decimal (money is never float)")
        if self.date.tzinfo is None:
            raise ValueError("Payment.date must be aware (use local_to_utc on 1C's naive dates)")

    @classmethod
    def single(cls, ref_key: str, kind: str, amount, date: datetime, *, order_key: str | None = None,
               order_number: str | None = None, order_date: datetime | None = None, **kw) -> "Payment":
        amount = to_decimal(amount)
        alloc = Allocation(amount=amount, order_key=order_key, order_number=order_number,
                           order_date=order_date, currency=kw.get("currency"))
        return cls(ref_key=ref_key, kind=kind, amount=amount, date=date, allocations=(alloc,), **kw)

    @property
    def counts(self) -> bool:
        """Only posted, not deletion-marked documents move money."""
        return self.posted and not self.deleted

    @property
    def order_key(self) -> str | None:
        keys = {a.order_key for a in self.allocations if a.order_key}
        return keys.pop() if len(keys) == 1 else None

    @property
    def order_number(self) -> str | None:
        nums = {a.order_number for a in self.allocations if a.order_number}
        return nums.pop() if len(nums) == 1 else None


@dataclass
class OrderState:
    """What the ledger says about one order; `amount_paid` is net of refunds (unless refunds are ignored).
    `last_payment_at` is the latest counted receipt (UTC); `count` the number of counted receipt
    documents. `currency` is None when rows in different settlement currencies were mixed (a problem
    the caller must surface, not sum over)."""

    order_key: str
    amount_paid: Decimal = Decimal("0")
    received: Decimal = Decimal("0")
    refunded: Decimal = Decimal("0")
    last_payment_at: datetime | None = None
    count: int = 0
    currency: str | None = None
    mixed_currencies: bool = False
    payments: list[str] = field(default_factory=list)


def latest_by_ref(payments: Iterable[Payment]) -> dict[str, Payment]:
    """Idempotency: the last-read version of each `Ref_Key` wins (input order = read order)."""
    out: dict[str, Payment] = {}
    for p in payments:
        out[p.ref_key] = p
    return out


def ledger_state(payments: Iterable[Payment], *, refunds: str = "subtract") -> dict[str, OrderState]:
    """Per order key: net amount paid, last payment time, count. Pure, so the same input always gives
    the same desired state to push (a re-run or crash-retry is harmless)."""
    if refunds not in ("subtract", "ignore"):
        raise ValueError("refunds must be 'subtract' or 'ignore'")
    states: dict[str, OrderState] = {}
    for p in latest_by_ref(payments).values():
        if not p.counts or (p.kind == REFUND and refunds == "ignore"):
            continue
        counted_for: set[str] = set()
        for a in p.allocations:
            if not a.order_key:
                continue
            st = states.setdefault(a.order_key, OrderState(order_key=a.order_key, currency=a.currency))
            if a.currency != st.currency:
                st.mixed_currencies = True
                st.currency = None
            if p.kind == RECEIPT:
                st.received += a.amount
                if a.order_key not in counted_for:
                    st.count += 1
                    if st.last_payment_at is None or p.date > st.last_payment_at:
                        st.last_payment_at = p.date
            else:
                st.refunded += a.amount
            st.amount_paid = st.received - st.refunded
            if p.ref_key not in st.payments:
                st.payments.append(p.ref_key)
            counted_for.add(a.order_key)
    return states


def unallocated(payments: Iterable[Payment]) -> list[tuple[Payment, Allocation]]:
    """Counted rows that point at no order: shown to a human, never attached to a deal by guessing."""
    return [(p, a) for p in latest_by_ref(payments).values() if p.counts
            for a in p.allocations if not a.order_key]


class Ledger:
    """The latest known version of every payment document, fed by repeated reads.

    `apply` replaces a document by `Ref_Key` (idempotent; re-reading an un-posted document retracts its
    money), `forget` handles physical deletion (1C answers 404 / code 9 for a vanished `Ref_Key`).
    """

    def __init__(self, *, refunds: str = "subtract"):
        self.refunds = refunds
        self._docs: dict[str, Payment] = {}

    def apply(self, payments: Iterable[Payment]) -> set[str]:
        """Store new versions; return the order keys whose state may have changed (old and new links)."""
        touched: set[str] = set()
        for p in payments:
            old = self._docs.get(p.ref_key)
            if old is not None:
                touched |= {a.order_key for a in old.allocations if a.order_key}
            touched |= {a.order_key for a in p.allocations if a.order_key}
            self._docs[p.ref_key] = p
        return touched

    def forget(self, ref_key: str) -> set[str]:
        old = self._docs.pop(ref_key, None)
        return {a.order_key for a in old.allocations if a.order_key} if old else set()

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, ref_key: str) -> bool:
        return ref_key in self._docs

    def state(self) -> dict[str, OrderState]:
        return ledger_state(self._docs.values(), refunds=self.refunds)
