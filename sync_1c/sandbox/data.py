"""The sandbox infobase: entity sets shaped like УТ 11.5 (or 11.4), rows stored as 1C serialises them.

Rows keep the wire form — GUID strings, naive local date strings, `LineNumber` as a string, amounts as
Decimal (sent as JSON numbers, like `Edm.Double`) — so the server only filters, selects and wraps them.
Test helpers (`add_order`, `add_payment`, `unpost`, `mark_deleted`, `delete`, …) change rows the way 1C
does: every write gets a new `DataVersion`, physical deletion makes the `Ref_Key` vanish.
"""
from __future__ import annotations

import base64
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

EMPTY = "00000000-0000-0000-0000-000000000000"
ORDER_SET = "Document_ЗаказКлиента"
SETTLEMENT_SET = "Catalog_ОбъектыРасчетов"

_DOC = {"Ref_Key": "Edm.Guid", "DataVersion": "Edm.String", "DeletionMark": "Edm.Boolean",
        "Number": "Edm.String", "Date": "Edm.DateTime", "Posted": "Edm.Boolean"}
_CAT = {"Ref_Key": "Edm.Guid", "DataVersion": "Edm.String", "DeletionMark": "Edm.Boolean",
        "Code": "Edm.String", "Description": "Edm.String"}

# kind → (entity set, ХозяйственнаяОперация, incoming?)
PAYMENT_KINDS = {
    "bank": ("Document_ПоступлениеБезналичныхДенежныхСредств", "ПоступлениеОплатыОтКлиента", True),
    "cash": ("Document_ПриходныйКассовыйОрдер", "ПоступлениеОплатыОтКлиента", True),
    "card": ("Document_ОперацияПоПлатежнойКарте", "ПоступлениеОплатыОтКлиентаПоПлатежнойКарте", True),
    "card_refund": ("Document_ОперацияПоПлатежнойКарте", "ВозвратОплатыКлиентуНаПлатежнуюКарту", True),
    "refund": ("Document_СписаниеБезналичныхДенежныхСредств", "ВозвратОплатыКлиенту", False),
    "cash_refund": ("Document_РасходныйКассовыйОрдер", "ВозвратОплатыКлиенту", False),
}


@dataclass
class EntityDef:
    """One entity set: properties (name → Edm type), tabular sections, navigation `X` for `X_Key`."""
    name: str
    props: dict[str, str]
    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    navs: dict[str, str] = field(default_factory=dict)


def build_schema(flavor: str) -> dict[str, EntityDef]:
    """УТ 11.5 links rows through `ОбъектРасчетов_Key`; 11.4 through the composite `Заказ` (inferred)."""
    if flavor not in ("ut11_5", "ut11_4"):
        raise ValueError("flavor must be 'ut11_5' or 'ut11_4'")
    new = flavor == "ut11_5"
    s: dict[str, EntityDef] = {}

    def add(name, props, sections=None, navs=None):
        s[name] = EntityDef(name, props, sections or {}, navs or {})

    add("Catalog_Валюты", dict(_CAT))
    add("Catalog_Контрагенты", dict(_CAT, ИНН="Edm.String"))
    order = dict(_DOC, Контрагент_Key="Edm.Guid", Валюта_Key="Edm.Guid", СуммаДокумента="Edm.Double",
                 Статус="Edm.String")
    order_navs = {"Контрагент": "Catalog_Контрагенты", "Валюта": "Catalog_Валюты"}
    if new:
        add(SETTLEMENT_SET, dict(_CAT, Объект="Edm.String", Объект_Type="Edm.String", Номер="Edm.String",
                                 Дата="Edm.DateTime", Валюта_Key="Edm.Guid"), navs={"Валюта": "Catalog_Валюты"})
        order["ОбъектРасчетов_Key"] = "Edm.Guid"
        order_navs["ОбъектРасчетов"] = SETTLEMENT_SET
    add(ORDER_SET, order, navs=order_navs)
    for entity, _op, incoming in PAYMENT_KINDS.values():
        if entity in s:
            continue
        header = dict(_DOC, ХозяйственнаяОперация="Edm.String", СуммаДокумента="Edm.Double",
                      Валюта_Key="Edm.Guid", Контрагент_Key="Edm.Guid", НазначениеПлатежа="Edm.String")
        navs = {"Контрагент": "Catalog_Контрагенты", "Валюта": "Catalog_Валюты"}
        row = {"Ref_Key": "Edm.Guid", "LineNumber": "Edm.Int64", "Сумма": "Edm.Double",
               "СуммаВзаиморасчетов": "Edm.Double", "ВалютаВзаиморасчетов_Key": "Edm.Guid"}
        if new:
            header["ОбъектРасчетов_Key"] = "Edm.Guid"
            navs["ОбъектРасчетов"] = SETTLEMENT_SET
            row["ОбъектРасчетов_Key"] = "Edm.Guid"
        else:
            row.update({"Заказ": "Edm.String", "Заказ_Type": "Edm.String"})
        if incoming:  # outgoing docs' rows have no ОснованиеПлатежа (1c-odata.md §3.3)
            row.update({"ОснованиеПлатежа": "Edm.String", "ОснованиеПлатежа_Type": "Edm.String"})
        add(entity, header, {"РасшифровкаПлатежа": row}, navs)
    return s


class Infobase:
    """Rows per entity set plus the helpers tests use to play the accountant."""

    def __init__(self, flavor: str = "ut11_5"):
        self.flavor = flavor
        self.schema = build_schema(flavor)
        self.rows: dict[str, dict[str, dict]] = {name: {} for name in self.schema}
        self.lock = threading.RLock()
        self._version = 0
        self._deletions = 0
        self._counters: dict[tuple[str, int], int] = {}
        self.currencies = {"RUB": self._insert("Catalog_Валюты", Code="643", Description="руб."),
                           "USD": self._insert("Catalog_Валюты", Code="840", Description="USD")}
        self.default_counterparty = self.add_counterparty("ООО «Ромашка»", "7701234567")

    # --- low level ----------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """Changes with every write (insert, update, physical delete): the server's query cache key."""
        return self._version + self._deletions

    def _new_version(self) -> str:
        self._version += 1
        return base64.b64encode(self._version.to_bytes(8, "big")).decode("ascii")

    def _insert(self, entity: str, **values) -> str:
        with self.lock:
            ref = str(values.pop("Ref_Key", None) or uuid.uuid4())
            row = {"Ref_Key": ref, "DataVersion": self._new_version(), "DeletionMark": False}
            row.update(values)
            for name, edm in self.schema[entity].props.items():
                row.setdefault(name, EMPTY if edm == "Edm.Guid" else None)
            self.rows[entity][ref] = row
            return ref

    def find(self, ref: str) -> tuple[str, dict]:
        with self.lock:
            for entity, rows in self.rows.items():
                if ref in rows:
                    return entity, rows[ref]
        raise KeyError(ref)

    def update(self, ref: str, **values) -> None:
        with self.lock:
            _entity, row = self.find(ref)
            row.update(values)
            row["DataVersion"] = self._new_version()

    def _number(self, prefix: str, when: datetime, series: str) -> str:
        key = (series, when.year)
        self._counters[key] = self._counters.get(key, 0) + 1
        return f"{prefix}{self._counters[key]:06d}"    # String(11), restarts every year

    # --- helpers for tests --------------------------------------------------------------------------
    def add_counterparty(self, name: str, inn: str = "") -> str:
        return self._insert("Catalog_Контрагенты", Code=inn[-5:] or "00001", Description=name, ИНН=inn)

    def add_order(self, amount, date: datetime | str, *, number: str | None = None, currency: str = "RUB",
                  counterparty: str | None = None, posted: bool = True) -> str:
        """A `ЗаказКлиента`; on УТ 11.5 also its `Catalog_ОбъектыРасчетов` element, as 1C creates it."""
        when = datetime.fromisoformat(date) if isinstance(date, str) else date
        with self.lock:
            number = number or self._number("ТД00-", when, ORDER_SET)
            ref = self._insert(ORDER_SET, Number=number, Date=when.isoformat(timespec="seconds"),
                               Posted=posted, Контрагент_Key=counterparty or self.default_counterparty,
                               Валюта_Key=self.currencies[currency], СуммаДокумента=Decimal(str(amount)),
                               Статус="КОбеспечению")
            if self.flavor == "ut11_5":
                obj = self._insert(SETTLEMENT_SET, Code="", Description=f"Заказ клиента {number}",
                                   Объект=ref, Объект_Type=f"StandardODATA.{ORDER_SET}", Номер=number,
                                   Дата=when.isoformat(timespec="seconds"), Валюта_Key=self.currencies[currency])
                self.rows[ORDER_SET][ref]["ОбъектРасчетов_Key"] = obj
            return ref

    def settlement_object_of(self, order_ref: str) -> str:
        return self.rows[ORDER_SET][order_ref]["ОбъектРасчетов_Key"]

    def add_contract_settlement(self, description: str = "Договор № 1") -> str:
        """A settlement object that is not an order (contract-level settlement → unallocated money)."""
        return self._insert(SETTLEMENT_SET, Code="", Description=description, Объект=str(uuid.uuid4()),
                            Объект_Type="StandardODATA.Catalog_ДоговорыКонтрагентов", Номер="", Дата=None)

    def add_payment(self, allocations, date: datetime | str, *, kind: str = "bank",
                    operation: str | None = None, posted: bool = True, deleted: bool = False,
                    currency: str = "RUB", number: str | None = None, purpose: str = "") -> str:
        """A payment document. `allocations`: [(order_ref or settlement-object ref or None, amount), …]."""
        entity, default_op, incoming = PAYMENT_KINDS[kind]
        when = datetime.fromisoformat(date) if isinstance(date, str) else date
        cur = self.currencies[currency]
        with self.lock:
            ref = str(uuid.uuid4())
            rows = []
            for i, (target, amount) in enumerate(allocations, start=1):
                amount = Decimal(str(amount))
                row = {"Ref_Key": ref, "LineNumber": str(i), "Сумма": amount, "СуммаВзаиморасчетов": amount,
                       "ВалютаВзаиморасчетов_Key": cur}
                is_order = target in self.rows[ORDER_SET]
                if self.flavor == "ut11_5":
                    row["ОбъектРасчетов_Key"] = (self.settlement_object_of(target) if is_order else target) or EMPTY
                else:
                    row["Заказ"] = target if is_order else ""
                    row["Заказ_Type"] = f"StandardODATA.{ORDER_SET}" if is_order else "StandardODATA.Undefined"
                if incoming:
                    row["ОснованиеПлатежа"] = target if is_order else ""
                    row["ОснованиеПлатежа_Type"] = (f"StandardODATA.{ORDER_SET}" if is_order
                                                    else "StandardODATA.Undefined")
                rows.append(row)
            total = sum((r["Сумма"] for r in rows), Decimal("0"))
            return self._insert(entity, Ref_Key=ref, Number=number or self._number("ТД00-", when, entity),
                                Date=when.isoformat(timespec="seconds"), Posted=posted, DeletionMark=deleted,
                                ХозяйственнаяОперация=operation or default_op, СуммаДокумента=total,
                                Валюта_Key=cur, Контрагент_Key=self.default_counterparty,
                                НазначениеПлатежа=purpose, РасшифровкаПлатежа=rows)

    def unpost(self, ref: str) -> None:
        self.update(ref, Posted=False)

    def post(self, ref: str) -> None:
        self.update(ref, Posted=True)

    def mark_deleted(self, ref: str, mark: bool = True) -> None:
        """Deletion mark; 1C un-posts a document when it is marked for deletion."""
        self.update(ref, DeletionMark=mark, **({"Posted": False} if mark else {}))

    def delete(self, ref: str) -> None:
        """Physical deletion (OData DELETE / «Удаление помеченных»): the Ref_Key is gone (404 / code 9)."""
        with self.lock:
            entity, _row = self.find(ref)
            del self.rows[entity][ref]
            self._deletions += 1
