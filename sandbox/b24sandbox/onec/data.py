"""The sandbox infobase: entity sets shaped like УТ 11.5, УТ 11.4, БП 3.0 or УНФ, rows stored as 1C
serialises them.

Rows keep the wire form — GUID strings, naive local date strings, `LineNumber` as a string, amounts as
Decimal (sent as JSON numbers, like `Edm.Double`) — so the server only filters, selects and wraps them.
Test helpers (`add_order`, `add_payment`, `unpost`, `mark_deleted`, `delete`, …) change rows the way 1C
does: every write gets a new `DataVersion`, physical deletion makes the `Ref_Key` vanish.

Names per configuration follow 1c-odata.md §1.8 (the table "Which configuration names what"): entity
sets of orders, incoming and refund documents, and the row fields each configuration links a payment to
its order with. Where that table is silent the sandbox uses the same guess as `sync_1c.profiles` and says
so (БП/УНФ header currency fields, БП/УНФ refund operation values) — a customer's `$metadata` decides.
ERP 2.5 / КА 2.5 are "as УТ 11.5" and ERP 2.4 / КА 2.4 "as УТ 11.4" in that table, so they have no
flavor of their own.
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
STATE_REGISTER = "InformationRegister_СостоянияЗаказовКлиентов"
# The register's record (1c-odata.md §1.8): dimension Заказ (composite), resources Состояние, ДатаСобытия,
# attributes СуммаОплаты, ПроцентОплаты, СуммаОтгрузки, ПроцентОтгрузки, СуммаДолга, ПроцентДолга.
_STATE = {"Заказ": "Edm.String", "Заказ_Type": "Edm.String", "Состояние": "Edm.String",
          "ДатаСобытия": "Edm.DateTime", "СуммаОплаты": "Edm.Double", "ПроцентОплаты": "Edm.Double",
          "СуммаОтгрузки": "Edm.Double", "ПроцентОтгрузки": "Edm.Double", "СуммаДолга": "Edm.Double",
          "ПроцентДолга": "Edm.Double"}
# УТ payment documents' storno/correction header attributes (1c-odata.md §1.8, §3.3): a storno document
# repeats the original's rows with negated amounts and names it in СторнируемыйДокумент.
_STORNO = {"Исправление": "Edm.Boolean", "СторнируемыйДокумент": "Edm.String",
           "СторнируемыйДокумент_Type": "Edm.String", "ИсправляемыйДокумент": "Edm.String",
           "ИсправляемыйДокумент_Type": "Edm.String"}

_DOC = {"Ref_Key": "Edm.Guid", "DataVersion": "Edm.String", "DeletionMark": "Edm.Boolean",
        "Number": "Edm.String", "Date": "Edm.DateTime", "Posted": "Edm.Boolean"}
_CAT = {"Ref_Key": "Edm.Guid", "DataVersion": "Edm.String", "DeletionMark": "Edm.Boolean",
        "Code": "Edm.String", "Description": "Edm.String"}

# kind → (entity set, operation value, incoming?) — УТ 11.5 / 11.4 (ХозяйственнаяОперация)
PAYMENT_KINDS = {
    "bank": ("Document_ПоступлениеБезналичныхДенежныхСредств", "ПоступлениеОплатыОтКлиента", True),
    "cash": ("Document_ПриходныйКассовыйОрдер", "ПоступлениеОплатыОтКлиента", True),
    "card": ("Document_ОперацияПоПлатежнойКарте", "ПоступлениеОплатыОтКлиентаПоПлатежнойКарте", True),
    "card_refund": ("Document_ОперацияПоПлатежнойКарте", "ВозвратОплатыКлиентуНаПлатежнуюКарту", True),
    "refund": ("Document_СписаниеБезналичныхДенежныхСредств", "ВозвратОплатыКлиенту", False),
    "cash_refund": ("Document_РасходныйКассовыйОрдер", "ВозвратОплатыКлиенту", False),
}
_REFUND_OPS = {"ВозвратОплатыКлиенту", "ВозвратОплатыКлиентуНаПлатежнуюКарту", "ВозвратОплатыНаПлатежнуюКарту",
               "ВозвратПокупателю", "Покупателю"}


@dataclass(frozen=True)
class Flavor:
    """What differs between configurations, as far as payments by order go (1c-odata.md §1.8)."""
    name: str
    order_set: str
    op_field: str
    kinds: dict
    link: str                         # "settlement" (ОбъектРасчетов_Key) | "composite" (Заказ/_Type) | "reference"
    header_currency: str = "Валюта_Key"
    order_currency: str = "Валюта_Key"
    prefix: str = "ТД00-"
    state_register: bool = False      # InformationRegister_СостоянияЗаказовКлиентов (УТ 11.x)
    storno: bool = False              # Исправление / СторнируемыйДокумент on payment documents (УТ 11.x)


FLAVORS = {
    "ut11_5": Flavor("ut11_5", ORDER_SET, "ХозяйственнаяОперация", PAYMENT_KINDS, "settlement",
                     state_register=True, storno=True),
    # УТ 11.4: the register and the storno attributes are УТ 11's (inferred for 11.4 like its row link)
    "ut11_4": Flavor("ut11_4", ORDER_SET, "ХозяйственнаяОперация", PAYMENT_KINDS, "composite",
                     state_register=True, storno=True),
    # БП 3.0: the invoice is the order; bank receipts are ВидОперации 'ОплатаПокупателя' (§1.8); the cash
    # and card documents share that value here and refunds use 'ВозвратПокупателю' — a guess, like the profile.
    "bp3_0": Flavor("bp3_0", "Document_СчетНаОплатуПокупателю", "ВидОперации", {
        "bank": ("Document_ПоступлениеНаРасчетныйСчет", "ОплатаПокупателя", True),
        "cash": ("Document_ПриходныйКассовыйОрдер", "ОплатаПокупателя", True),
        "card": ("Document_ОперацияПоПлатежнойКарте", "ОплатаПокупателя", True),
        "refund": ("Document_СписаниеСРасчетногоСчета", "ВозвратПокупателю", False),
        "cash_refund": ("Document_РасходныйКассовыйОрдер", "ВозвратПокупателю", False),
    }, "reference", header_currency="ВалютаДокумента_Key", order_currency="ВалютаДокумента_Key", prefix="БП00-"),
    # УНФ: ЗаказПокупателя; bank receipts ВидОперации 'ОтПокупателя' (§1.8); refunds 'Покупателю' (a guess).
    "unf": Flavor("unf", "Document_ЗаказПокупателя", "ВидОперации", {
        "bank": ("Document_ПоступлениеНаСчет", "ОтПокупателя", True),
        "cash": ("Document_ПоступлениеВКассу", "ОтПокупателя", True),
        "refund": ("Document_РасходСоСчета", "Покупателю", False),
        "cash_refund": ("Document_РасходИзКассы", "Покупателю", False),
    }, "composite", header_currency="ВалютаДенежныхСредств_Key", order_currency="ВалютаДокумента_Key",
        prefix="УН00-"),
}


@dataclass
class EntityDef:
    """One entity set: properties (name → Edm type), tabular sections, navigation `X` for `X_Key`;
    `key` = the key properties (`Ref_Key` for objects, the dimensions for an information register)."""
    name: str
    props: dict[str, str]
    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    navs: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ("Ref_Key",)


def flavor_of(name: str) -> Flavor:
    try:
        return FLAVORS[name]
    except KeyError:
        raise ValueError(f"flavor must be one of {', '.join(FLAVORS)}") from None


def build_schema(flavor: str) -> dict[str, EntityDef]:
    """Entity sets of one configuration. Row links (1c-odata.md §1.8): УТ 11.5 `ОбъектРасчетов_Key` →
    `Catalog_ОбъектыРасчетов`; УТ 11.4 composite `Заказ`/`Заказ_Type` (inferred); БП 3.0 `СчетНаОплату_Key`,
    `ДоговорКонтрагента_Key`, `СуммаПлатежа`, `СуммаВзаиморасчетов`, `СпособПогашенияЗадолженности`;
    УНФ `Заказ`/`Заказ_Type` (→ `Document_ЗаказПокупателя`), `СуммаРасчетов`, `СуммаПлатежа`, `Договор_Key`."""
    fl = flavor_of(flavor)
    s: dict[str, EntityDef] = {}

    def add(name, props, sections=None, navs=None):
        s[name] = EntityDef(name, props, sections or {}, navs or {})

    add("Catalog_Валюты", dict(_CAT))
    add("Catalog_Контрагенты", dict(_CAT, ИНН="Edm.String"))
    order = dict(_DOC, Контрагент_Key="Edm.Guid", СуммаДокумента="Edm.Double", **{fl.order_currency: "Edm.Guid"})
    order_navs = {"Контрагент": "Catalog_Контрагенты", fl.order_currency[:-4]: "Catalog_Валюты"}
    if fl.name.startswith("ut"):
        order["Статус"] = "Edm.String"
    if fl.name == "bp3_0":
        add("Catalog_ДоговорыКонтрагентов", dict(_CAT, Owner_Key="Edm.Guid"))
        order["ДоговорКонтрагента_Key"] = "Edm.Guid"
    if fl.name == "unf":
        add("Catalog_ДоговорыКонтрагентов", dict(_CAT, Owner_Key="Edm.Guid"))
        order["Договор_Key"] = "Edm.Guid"
    if fl.link == "settlement":
        add(SETTLEMENT_SET, dict(_CAT, Объект="Edm.String", Объект_Type="Edm.String", Номер="Edm.String",
                                 Дата="Edm.DateTime", Валюта_Key="Edm.Guid"), navs={"Валюта": "Catalog_Валюты"})
        order["ОбъектРасчетов_Key"] = "Edm.Guid"
        order_navs["ОбъектРасчетов"] = SETTLEMENT_SET
    add(fl.order_set, order, navs=order_navs)
    for entity, _op, incoming in fl.kinds.values():
        if entity in s:
            continue
        header = dict(_DOC, СуммаДокумента="Edm.Double", Контрагент_Key="Edm.Guid", НазначениеПлатежа="Edm.String",
                      **{fl.op_field: "Edm.String", fl.header_currency: "Edm.Guid"}, **(_STORNO if fl.storno else {}))
        navs = {"Контрагент": "Catalog_Контрагенты", fl.header_currency[:-4]: "Catalog_Валюты"}
        row = {"Ref_Key": "Edm.Guid", "LineNumber": "Edm.Int64"}
        if fl.name.startswith("ut"):
            row.update({"Сумма": "Edm.Double", "СуммаВзаиморасчетов": "Edm.Double",
                        "ВалютаВзаиморасчетов_Key": "Edm.Guid"})
            if fl.link == "settlement":
                header["ОбъектРасчетов_Key"] = "Edm.Guid"
                navs["ОбъектРасчетов"] = SETTLEMENT_SET
                row["ОбъектРасчетов_Key"] = "Edm.Guid"
            else:
                row.update({"Заказ": "Edm.String", "Заказ_Type": "Edm.String"})
            if incoming:  # outgoing docs' rows have no ОснованиеПлатежа (1c-odata.md §3.3)
                row.update({"ОснованиеПлатежа": "Edm.String", "ОснованиеПлатежа_Type": "Edm.String"})
        elif fl.name == "bp3_0":
            row.update({"СчетНаОплату_Key": "Edm.Guid", "ДоговорКонтрагента_Key": "Edm.Guid",
                        "СуммаПлатежа": "Edm.Double", "СуммаВзаиморасчетов": "Edm.Double",
                        "СпособПогашенияЗадолженности": "Edm.String"})
        else:
            row.update({"Заказ": "Edm.String", "Заказ_Type": "Edm.String", "СуммаРасчетов": "Edm.Double",
                        "СуммаПлатежа": "Edm.Double", "Договор_Key": "Edm.Guid"})
        add(entity, header, {"РасшифровкаПлатежа": row}, navs)
    if fl.state_register:
        s[STATE_REGISTER] = EntityDef(STATE_REGISTER, dict(_STATE), key=("Заказ", "Заказ_Type"))
    return s


class Infobase:
    """Rows per entity set plus the helpers tests use to play the accountant."""

    def __init__(self, flavor: str = "ut11_5"):
        self.flavor = flavor
        self.fl = flavor_of(flavor)
        self.schema = build_schema(flavor)
        self.rows: dict[str, dict[str, dict]] = {name: {} for name in self.schema}
        self.lock = threading.RLock()
        self._version = 0
        self._deletions = 0
        self._counters: dict[tuple[str, int], int] = {}
        self._states: tuple[int, dict] = (-1, {})
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

    def table(self, name: str) -> dict[str, dict]:
        """Rows of an entity set by key; the order-state register is derived from the documents."""
        return self.order_states() if name == STATE_REGISTER else self.rows[name]

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
    def order_states(self) -> dict[str, dict]:
        """`InformationRegister_СостоянияЗаказовКлиентов` as 1C keeps it (posting writes it): one record per
        posted order, СуммаОплаты = its posted, not deletion-marked receipts minus refunds (storno documents
        carry negated rows, so they net out), whatever the documents' dates. Rebuilt after every write."""
        with self.lock:
            if self._states[0] == self.generation:
                return self._states[1]
            fl = self.fl
            sign = {(entity, op): (-1 if op in _REFUND_OPS or not incoming else 1)
                    for entity, op, incoming in fl.kinds.values()}
            paid: dict[str, Decimal] = {}
            last: dict[str, str] = {}
            for entity, rows in self.rows.items():
                if not entity.startswith("Document_") or entity == fl.order_set:
                    continue
                for doc in rows.values():
                    k = sign.get((entity, doc.get(fl.op_field)))
                    if k is None or not doc.get("Posted") or doc.get("DeletionMark"):
                        continue
                    for r in doc.get("РасшифровкаПлатежа") or []:
                        order = self.order_of_row(r)
                        if order:
                            amount = r.get("СуммаВзаиморасчетов", r.get("СуммаРасчетов"))
                            paid[order] = paid.get(order, Decimal("0")) + k * Decimal(str(amount or 0))
                            last[order] = max(last.get(order, ""), doc["Date"])
            out = {}
            for ref, order in self.rows[fl.order_set].items():
                if not order.get("Posted") or order.get("DeletionMark"):
                    continue
                total, p = Decimal(str(order["СуммаДокумента"] or 0)), paid.get(ref, Decimal("0"))
                pct = (p * 100 / total).quantize(Decimal("0.01")) if total else Decimal("0")
                out[ref] = {"Заказ": ref, "Заказ_Type": f"StandardODATA.{fl.order_set}",
                            "Состояние": "Закрыт" if total and p >= total else "ОжидаетсяОплата",
                            "ДатаСобытия": last.get(ref) or order["Date"], "СуммаОплаты": p, "ПроцентОплаты": pct,
                            "СуммаОтгрузки": Decimal("0"), "ПроцентОтгрузки": Decimal("0"),
                            "СуммаДолга": total - p, "ПроцентДолга": Decimal("100") - pct if total else Decimal("0")}
            self._states = (self.generation, out)
            return out

    def order_of_row(self, r: dict) -> str | None:
        """The order a `РасшифровкаПлатежа` row pays, as the configuration links it."""
        fl = self.fl
        if fl.link == "settlement":
            obj = self.rows[SETTLEMENT_SET].get(r.get("ОбъектРасчетов_Key") or "")
            return obj["Объект"] if obj and obj.get("Объект_Type") == f"StandardODATA.{fl.order_set}" else None
        if fl.link == "reference":
            key = r.get("СчетНаОплату_Key")
            return key if key and key != EMPTY else None
        return r.get("Заказ") or None if r.get("Заказ_Type") == f"StandardODATA.{fl.order_set}" else None

    def add_counterparty(self, name: str, inn: str = "") -> str:
        return self._insert("Catalog_Контрагенты", Code=inn[-5:] or "00001", Description=name, ИНН=inn)

    def add_order(self, amount, date: datetime | str, *, number: str | None = None, currency: str = "RUB",
                  counterparty: str | None = None, posted: bool = True) -> str:
        """The order document of this configuration (`ЗаказКлиента`, БП's `СчетНаОплатуПокупателю`, УНФ's
        `ЗаказПокупателя`); on УТ 11.5 also its `Catalog_ОбъектыРасчетов` element, as 1C creates it."""
        fl = self.fl
        when = datetime.fromisoformat(date) if isinstance(date, str) else date
        with self.lock:
            number = number or self._number(fl.prefix, when, fl.order_set)
            extra = {"Статус": "КОбеспечению"} if fl.name.startswith("ut") else {}
            ref = self._insert(fl.order_set, Number=number, Date=when.isoformat(timespec="seconds"),
                               Posted=posted, Контрагент_Key=counterparty or self.default_counterparty,
                               СуммаДокумента=Decimal(str(amount)),
                               **{fl.order_currency: self.currencies[currency]}, **extra)
            if fl.link == "settlement":
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

    def _row(self, ref: str, line: int, target, amount: Decimal, cur: str, incoming: bool) -> dict:
        """One `РасшифровкаПлатежа` row pointing at `target` (an order, a settlement object or None)."""
        fl = self.fl
        order_type = f"StandardODATA.{fl.order_set}"
        is_order = target in self.rows[fl.order_set]
        row = {"Ref_Key": ref, "LineNumber": str(line)}
        if fl.name.startswith("ut"):
            row.update({"Сумма": amount, "СуммаВзаиморасчетов": amount, "ВалютаВзаиморасчетов_Key": cur})
            if fl.link == "settlement":
                row["ОбъектРасчетов_Key"] = (self.settlement_object_of(target) if is_order else target) or EMPTY
            else:
                row["Заказ"] = target if is_order else ""
                row["Заказ_Type"] = order_type if is_order else "StandardODATA.Undefined"
            if incoming:
                row["ОснованиеПлатежа"] = target if is_order else ""
                row["ОснованиеПлатежа_Type"] = order_type if is_order else "StandardODATA.Undefined"
        elif fl.name == "bp3_0":
            row.update({"СчетНаОплату_Key": target if is_order else EMPTY, "ДоговорКонтрагента_Key": EMPTY,
                        "СуммаПлатежа": amount, "СуммаВзаиморасчетов": amount,
                        "СпособПогашенияЗадолженности": "Автоматически"})
        else:
            row.update({"Заказ": target if is_order else "",
                        "Заказ_Type": order_type if is_order else "StandardODATA.Undefined",
                        "СуммаРасчетов": amount, "СуммаПлатежа": amount, "Договор_Key": EMPTY})
        return row

    def add_payment(self, allocations, date: datetime | str, *, kind: str = "bank",
                    operation: str | None = None, posted: bool = True, deleted: bool = False,
                    currency: str = "RUB", number: str | None = None, purpose: str = "") -> str:
        """A payment document. `allocations`: [(order_ref or settlement-object ref or None, amount), …];
        `kind` is one of this flavor's kinds (bank, cash, card, refund, …)."""
        fl = self.fl
        if kind not in fl.kinds:
            raise ValueError(f"{fl.name} has no payment kind {kind!r}; known: {', '.join(fl.kinds)}")
        entity, default_op, incoming = fl.kinds[kind]
        when = datetime.fromisoformat(date) if isinstance(date, str) else date
        cur = self.currencies[currency]
        with self.lock:
            ref = str(uuid.uuid4())
            rows = [self._row(ref, i, target, Decimal(str(amount)), cur, incoming)
                    for i, (target, amount) in enumerate(allocations, start=1)]
            total = sum((Decimal(str(amount)) for _t, amount in allocations), Decimal("0"))
            storno = {"Исправление": False, "СторнируемыйДокумент": "", "ИсправляемыйДокумент": "",
                      "СторнируемыйДокумент_Type": "StandardODATA.Undefined",
                      "ИсправляемыйДокумент_Type": "StandardODATA.Undefined"} if fl.storno else {}
            return self._insert(entity, Ref_Key=ref, **storno, Number=number or self._number(fl.prefix, when, entity),
                                Date=when.isoformat(timespec="seconds"), Posted=posted, DeletionMark=deleted,
                                СуммаДокумента=total, Контрагент_Key=self.default_counterparty,
                                НазначениеПлатежа=purpose, РасшифровкаПлатежа=rows,
                                **{fl.op_field: operation or default_op, fl.header_currency: cur})

    def reallocate(self, ref: str, allocations) -> None:
        """An accountant edits the document's РасшифровкаПлатежа: `[(order or settlement object or None,
        amount), …]` replaces the rows (moves money to another order, splits it, makes it an advance)."""
        fl = self.fl
        with self.lock:
            entity, doc = self.find(ref)
            incoming = next(inc for ent, op, inc in fl.kinds.values() if ent == entity and op == doc[fl.op_field])
            cur = doc[fl.header_currency]
            rows = [self._row(ref, i, target, Decimal(str(amount)), cur, incoming)
                    for i, (target, amount) in enumerate(allocations, start=1)]
            self.update(ref, РасшифровкаПлатежа=rows,
                        СуммаДокумента=sum((Decimal(str(a)) for _t, a in allocations), Decimal("0")))

    def storno(self, ref: str, date: datetime | str) -> str:
        """A storno document for `ref` (УТ «Сторно»): same entity set and operation, rows negated,
        `Исправление` true and `СторнируемыйДокумент` naming the original, which stays posted."""
        fl = self.fl
        if not fl.storno:
            raise ValueError(f"{fl.name} has no storno documents")
        when = datetime.fromisoformat(date) if isinstance(date, str) else date
        with self.lock:
            entity, doc = self.find(ref)
            new = str(uuid.uuid4())
            rows = [{**r, "Ref_Key": new, **{k: -r[k] for k in ("Сумма", "СуммаВзаиморасчетов") if k in r}}
                    for r in doc["РасшифровкаПлатежа"]]
            values = {k: v for k, v in doc.items() if k not in ("Ref_Key", "DataVersion", "Number", "Date")}
            values.update(Number=self._number(fl.prefix, when, entity), Date=when.isoformat(timespec="seconds"),
                          Posted=True, DeletionMark=False, СуммаДокумента=-doc["СуммаДокумента"],
                          РасшифровкаПлатежа=rows, Исправление=True, СторнируемыйДокумент=ref,
                          СторнируемыйДокумент_Type=f"StandardODATA.{entity}")
            return self._insert(entity, Ref_Key=new, **values)

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
