"""Where each 1C configuration keeps customer payments and how a payment points at its order.

Names come from 1c-odata.md §1.8: УТ 11.5 / ERP 2.5 were checked against configuration sources
(11.5.18.41); УТ 11.4 / ERP 2.4, БП 3.0 and УНФ are *inferred or practitioner-reported* — which is why
ERP 2.5 / КА 2.5 reuse the УТ 11.5 profile and ERP 2.4 / КА 2.4 the УТ 11.4 one unchanged (the reference
lists them "as УТ 11.5" / with УТ 11.1–11.4: same documents, same row link). Each profile is tested against
the sandbox's `$metadata` of its own configuration and refused by the others' (tests/sync_1c/test_profiles.py).
Where §1.8 is silent (БП/УНФ currency fields, refund operation values) the names are guesses, said so in
`notes` — which is why
`check_against_metadata` runs at start-up against the customer's own `$metadata` and says exactly what is
missing, and why every name here is data (a customer profile can be a modified copy via `replace`).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from .payments import RECEIPT, REFUND

# How a row of РасшифровкаПлатежа names its order.
SETTLEMENT_OBJECT = "settlement_object"   # row.ОбъектРасчетов_Key → Catalog_ОбъектыРасчетов.Объект/_Type
COMPOSITE = "composite"                   # row.Заказ + row.Заказ_Type == "StandardODATA.<order set>"
REFERENCE = "reference"                   # row.СчетНаОплату_Key: a typed reference to the order set


@dataclass(frozen=True)
class PaymentSource:
    """One entity set holding payment documents.

    The direction comes from the operation field: `receipt_ops` add, `refund_ops` subtract, any other
    operation (supplier payment, cash transfer, …) is not a customer payment and is skipped. An empty
    `receipt_ops`/`refund_ops` pair means "every document here is `default_kind`"."""

    entity_set: str
    operation_field: str | None
    receipt_ops: tuple[str, ...] = ()
    refund_ops: tuple[str, ...] = ()
    default_kind: str | None = None
    currency_field: str = "Валюта_Key"
    amount_field: str = "СуммаДокумента"

    def kind_of(self, operation: str | None) -> str | None:
        if operation in self.receipt_ops:
            return RECEIPT
        if operation in self.refund_ops:
            return REFUND
        if not self.receipt_ops and not self.refund_ops:
            return self.default_kind
        return None


@dataclass(frozen=True)
class Profile:
    """Everything configuration-specific the reader needs; nothing else in sync_1c spells 1C names."""

    name: str
    title: str
    order_set: str
    sources: tuple[PaymentSource, ...]
    link: str                                   # SETTLEMENT_OBJECT | COMPOSITE | REFERENCE
    link_field: str                             # row field holding the link (without _Type)
    rows: str = "РасшифровкаПлатежа"
    row_amount: str = "СуммаВзаиморасчетов"     # settlement (order-currency) amount
    row_currency: str | None = "ВалютаВзаиморасчетов_Key"
    fallback_field: str | None = None           # composite row field tried when the link gives no order
    settlement_set: str = "Catalog_ОбъектыРасчетов"
    order_settlement_field: str = "ОбъектРасчетов_Key"   # the order's own settlement object (settlement link only)
    order_number_field: str = "Number"
    order_date_field: str = "Date"
    order_amount_field: str = "СуммаДокумента"
    order_currency_field: str = "Валюта_Key"
    number_restarts_yearly: bool = True         # numberPeriodicity Year in УТ/ERP; verify per base
    posted_field: str = "Posted"
    deleted_field: str = "DeletionMark"
    # 1C's own per-order paid total (1c-odata.md §1.8, §3.1 step 3, §3.6 step 5): an information register
    # whose composite dimension names the order; None = the profile has none (the ledger decides alone)
    state_register: str | None = None
    state_order_field: str = "Заказ"
    state_paid_field: str = "СуммаОплаты"
    verified: bool = False                      # names checked against configuration sources
    notes: str = ""

    @property
    def order_type(self) -> str:
        return f"StandardODATA.{self.order_set}"

    def header_fields(self, source: PaymentSource) -> list[str]:
        out = ["Ref_Key", "DataVersion", "Number", "Date", self.posted_field, self.deleted_field,
               source.amount_field, source.currency_field]
        if source.operation_field:
            out.append(source.operation_field)
        return out

    def row_fields(self, *, optional: bool = True) -> list[str]:
        """Columns of the tabular section the reader uses; the fallback link is optional (outgoing
        documents' rows have no ОснованиеПлатежа) and left out of the start-up requirements."""
        out = ["LineNumber", self.row_amount]
        if self.row_currency:
            out.append(self.row_currency)
        if self.link == COMPOSITE:
            out += [self.link_field, self.link_field + "_Type"]
        else:
            out.append(self.link_field)
        if self.fallback_field and optional:
            out += [self.fallback_field, self.fallback_field + "_Type"]
        return out

    def select(self, source: PaymentSource) -> list[str]:
        """Header fields plus the whole tabular section (listing its columns would blow IIS' 2048-char
        query-string limit once Cyrillic is percent-encoded, 1c-odata.md §1.3)."""
        return self.header_fields(source) + [self.rows]

    def requirements(self) -> dict[str, set[str]]:
        """Entity set → properties it must expose; `<set>/<section>` keys list the section's columns."""
        req: dict[str, set[str]] = {
            self.order_set: {"Ref_Key", self.order_number_field, self.order_date_field, self.posted_field,
                             self.deleted_field, self.order_amount_field, self.order_currency_field},
        }
        for s in self.sources:
            req.setdefault(s.entity_set, set()).update(self.select(s))
            req.setdefault(f"{s.entity_set}/{self.rows}", set()).update(self.row_fields(optional=False))
        if self.link == SETTLEMENT_OBJECT:
            req[self.settlement_set] = {"Ref_Key", "Объект", "Объект_Type"}
            req[self.order_set].add(self.order_settlement_field)
        return req

    def optional_requirements(self) -> dict[str, set[str]]:
        """What the profile uses when the base publishes it and does without otherwise: the order-state
        register (without it the deal's amount comes from the payment documents alone)."""
        if not self.state_register:
            return {}
        return {self.state_register: {self.state_order_field, self.state_order_field + "_Type",
                                      self.state_paid_field}}

    def check_against_metadata(self, metadata_xml: str | bytes) -> list[str]:
        return check_against_metadata(metadata_xml, self)


def _incoming(entity_set, op_field, receipts, refunds=(), **kw) -> PaymentSource:
    return PaymentSource(entity_set, op_field, tuple(receipts), tuple(refunds), **kw)


_UT_OP = "ХозяйственнаяОперация"
_UT_SOURCES = (
    _incoming("Document_ПоступлениеБезналичныхДенежныхСредств", _UT_OP, ["ПоступлениеОплатыОтКлиента"]),
    _incoming("Document_ПриходныйКассовыйОрдер", _UT_OP, ["ПоступлениеОплатыОтКлиента"]),
    _incoming("Document_ОперацияПоПлатежнойКарте", _UT_OP,
              ["ПоступлениеОплатыОтКлиента", "ПоступлениеОплатыОтКлиентаПоПлатежнойКарте"],
              ["ВозвратОплатыКлиенту", "ВозвратОплатыКлиентуНаПлатежнуюКарту"]),
    _incoming("Document_СписаниеБезналичныхДенежныхСредств", _UT_OP, [],
              ["ВозвратОплатыКлиенту", "ВозвратОплатыНаПлатежнуюКарту"]),
    _incoming("Document_РасходныйКассовыйОрдер", _UT_OP, [], ["ВозвратОплатыКлиенту"]),
)

UT_11_5 = Profile(
    name="ut11_5", title="Управление торговлей 11.5", order_set="Document_ЗаказКлиента",
    sources=_UT_SOURCES, link=SETTLEMENT_OBJECT, link_field="ОбъектРасчетов_Key",
    fallback_field="ОснованиеПлатежа", verified=True,
    state_register="InformationRegister_СостоянияЗаказовКлиентов",
    notes="The deal's paid amount is the order-state register's СуммаОплаты (it nets storno, corrections, "
          "netting and documents older than the window); the documents give the timeline.")
ERP_2_5 = replace(UT_11_5, name="erp2_5", title="1С:ERP 2.5 / КА 2.5", verified=False)

UT_11_4 = replace(
    UT_11_5, name="ut11_4", title="Управление торговлей 11.4", link=COMPOSITE, link_field="Заказ",
    fallback_field="ОснованиеПлатежа", verified=False,
    notes="Row attribute Заказ/Заказ_Type is inferred (it survives as УдалитьЗаказ in 11.5); verify.")
ERP_2_4 = replace(UT_11_4, name="erp2_4", title="1С:ERP 2.4 / КА 2.4")

_BP_OP = "ВидОперации"
BP_3_0 = Profile(
    name="bp3_0", title="Бухгалтерия предприятия 3.0", order_set="Document_СчетНаОплатуПокупателю",
    sources=(
        _incoming("Document_ПоступлениеНаРасчетныйСчет", _BP_OP, ["ОплатаПокупателя"],
                  currency_field="ВалютаДокумента_Key"),
        _incoming("Document_ПриходныйКассовыйОрдер", _BP_OP, ["ОплатаПокупателя"],
                  currency_field="ВалютаДокумента_Key"),
        _incoming("Document_ОперацияПоПлатежнойКарте", _BP_OP, ["ОплатаПокупателя"],
                  currency_field="ВалютаДокумента_Key"),
        _incoming("Document_СписаниеСРасчетногоСчета", _BP_OP, [], ["ВозвратПокупателю"],
                  currency_field="ВалютаДокумента_Key"),
        _incoming("Document_РасходныйКассовыйОрдер", _BP_OP, [], ["ВозвратПокупателю"],
                  currency_field="ВалютаДокумента_Key"),
    ),
    link=REFERENCE, link_field="СчетНаОплату_Key", row_currency=None, order_currency_field="ВалютаДокумента_Key",
    number_restarts_yearly=True,
    notes="БП has no customer order: the invoice (СчетНаОплатуПокупателю) is the order; rows link by "
          "РасшифровкаПлатежа.СчетНаОплату_Key, amount СуммаВзаиморасчетов (1c-odata.md §1.8). 'ОплатаПокупателя' "
          "is from the reference for the bank document only; the cash/card value, the refund value "
          "'ВозвратПокупателю' and the ВалютаДокумента_Key currency fields are unverified — check $metadata.")

_UNF_OP = "ВидОперации"
UNF = Profile(
    name="unf", title="Управление нашей фирмой", order_set="Document_ЗаказПокупателя",
    sources=(
        _incoming("Document_ПоступлениеНаСчет", _UNF_OP, ["ОтПокупателя"], currency_field="ВалютаДенежныхСредств_Key"),
        _incoming("Document_ПоступлениеВКассу", _UNF_OP, ["ОтПокупателя"], currency_field="ВалютаДенежныхСредств_Key"),
        _incoming("Document_РасходСоСчета", _UNF_OP, [], ["Покупателю"], currency_field="ВалютаДенежныхСредств_Key"),
        _incoming("Document_РасходИзКассы", _UNF_OP, [], ["Покупателю"], currency_field="ВалютаДенежныхСредств_Key"),
    ),
    link=COMPOSITE, link_field="Заказ", row_amount="СуммаРасчетов", row_currency=None,
    order_currency_field="ВалютаДокумента_Key",
    notes="Row Заказ/Заказ_Type and СуммаРасчетов are practitioner-reported; refund operation names "
          "and the currency fields (ВалютаДенежныхСредств_Key, ВалютаДокумента_Key) are a guess — check "
          "$metadata.")

PROFILES: dict[str, Profile] = {p.name: p for p in (UT_11_5, ERP_2_5, UT_11_4, ERP_2_4, BP_3_0, UNF)}


def get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown 1C profile {name!r}; known: {', '.join(PROFILES)}") from None


# --- $metadata check -------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def metadata_index(metadata_xml: str | bytes) -> dict[str, set[str]]:
    """Entity set → property names (structural + navigation), and `<set>/<section>` → row columns.

    Namespace-tolerant (1C's EDMX uses several CSDL namespaces across versions) and works on the 15 MB
    УТ file in one pass. Tabular sections are `Collection(StandardODATA.<set>_<section>_RowType)`
    properties whose row type is a ComplexType."""
    root = ET.fromstring(metadata_xml.encode("utf-8") if isinstance(metadata_xml, str) else metadata_xml)
    types: dict[str, dict[str, str]] = {}
    sets: dict[str, str] = {}
    for el in root.iter():
        kind = _local(el.tag)
        if kind in ("EntityType", "ComplexType"):
            props = {}
            for child in el:
                if _local(child.tag) in ("Property", "NavigationProperty"):
                    props[child.get("Name")] = child.get("Type") or ""
            types[el.get("Name")] = props
        elif kind == "EntitySet":
            sets[el.get("Name")] = (el.get("EntityType") or "").rsplit(".", 1)[-1]
    index: dict[str, set[str]] = {}
    for set_name, type_name in sets.items():
        props = types.get(type_name, {})
        index[set_name] = set(props)
        for prop, ptype in props.items():
            if ptype.startswith("Collection("):
                row_type = ptype[len("Collection("):-1].rsplit(".", 1)[-1]
                index[f"{set_name}/{prop}"] = set(types.get(row_type, {}))
    return index


def missing_optional(metadata_xml: str | bytes, profile: Profile) -> list[str]:
    """Warnings (not problems): optional names the base does not publish, phrased as the fix."""
    try:
        index = metadata_index(metadata_xml)
    except ET.ParseError:
        return []
    out = []
    for entity, props in profile.optional_requirements().items():
        if entity not in index or props - index[entity]:
            out.append(f"{entity} is not published (or lacks {', '.join(sorted(props))}): deals show the total of "
                       f"the payment documents only, not 1C's own paid total — add it to the OData composition "
                       f"({profile.title} profile)")
    return out


def check_against_metadata(metadata_xml: str | bytes, profile: Profile = UT_11_5) -> list[str]:
    """Problems that make the profile unusable on this base, each phrased as the fix an admin applies.
    Empty list = good to go. Called once at start-up (`$metadata` is big: fetch once, cache)."""
    try:
        index = metadata_index(metadata_xml)
    except ET.ParseError as exc:
        return [f"$metadata is not valid XML ({exc}); is the URL the OData root of the infobase?"]
    if not index:
        return ["$metadata lists no entity sets: nothing was added to the OData composition "
                "(run НастройкаСтандартногоИнтерфейсаOData or УстановитьСоставСтандартногоИнтерфейсаOData)"]
    problems = []
    for entity, props in profile.requirements().items():
        if "/" in entity:
            parent, section = entity.split("/", 1)
            if parent not in index:
                continue  # reported once for the parent
            if entity not in index:
                problems.append(f"{parent}: tabular section {section} is missing ({profile.title} profile)")
                continue
        elif entity not in index:
            problems.append(f"{entity} is not published: add it to the OData composition "
                            f"({profile.title} profile)")
            continue
        missing = sorted(props - index[entity])
        if missing:
            problems.append(f"{entity}: missing properties {', '.join(missing)} — wrong profile for this "
                            f"configuration/version? ({profile.title})")
    return problems
