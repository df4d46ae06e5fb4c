"""Profiles checked against `$metadata`: the sandbox's own CSDL passes, missing pieces are named."""
from __future__ import annotations

import pytest

from sync_1c import profiles
from sync_1c.odata import ODataClient
from sync_1c.profiles import UT_11_4, UT_11_5, check_against_metadata, metadata_index
from b24sandbox.onec.data import build_schema
from b24sandbox.onec.server import metadata_xml


def test_ut115_profile_matches_ut115_metadata(client):
    xml = client.metadata()
    assert check_against_metadata(xml) == []
    idx = metadata_index(xml)
    assert "ОбъектРасчетов_Key" in idx["Document_ПоступлениеБезналичныхДенежныхСредств/РасшифровкаПлатежа"]


def test_ut114_profile_matches_ut114_metadata_but_not_ut115():
    xml114 = metadata_xml(build_schema("ut11_4"))
    assert UT_11_4.check_against_metadata(xml114) == []
    problems = UT_11_5.check_against_metadata(xml114)
    assert any("Catalog_ОбъектыРасчетов is not published" in p for p in problems)
    assert any(p.startswith("Document_ЗаказКлиента: missing properties ОбъектРасчетов_Key") is False
               and "РасшифровкаПлатежа: missing properties" in p and "ОбъектРасчетов_Key" in p for p in problems)


def test_missing_entity_set_and_property_are_reported():
    schema = build_schema("ut11_5")
    del schema["Document_ПриходныйКассовыйОрдер"]
    del schema["Document_ЗаказКлиента"].props["СуммаДокумента"]
    problems = check_against_metadata(metadata_xml(schema), UT_11_5)
    assert any(p.startswith("Document_ПриходныйКассовыйОрдер is not published") for p in problems)
    assert any(p.startswith("Document_ЗаказКлиента: missing properties СуммаДокумента") for p in problems)
    assert len(problems) == 2


def test_empty_and_broken_metadata():
    empty = metadata_xml({})
    assert "nothing was added to the OData composition" in check_against_metadata(empty)[0]
    assert "not valid XML" in check_against_metadata("<html>login")[0]


def test_operation_decides_direction():
    card = next(s for s in UT_11_5.sources if s.entity_set == "Document_ОперацияПоПлатежнойКарте")
    assert card.kind_of("ПоступлениеОплатыОтКлиентаПоПлатежнойКарте") == "receipt"
    assert card.kind_of("ВозвратОплатыКлиентуНаПлатежнуюКарту") == "refund"
    assert card.kind_of("ПоступлениеОплатыОтПоставщика") is None


def test_profiles_registry():
    assert set(profiles.PROFILES) == {"ut11_5", "erp2_5", "ut11_4", "erp2_4", "bp3_0", "unf"}
    assert profiles.get("unf").order_set == "Document_ЗаказПокупателя"
    with pytest.raises(KeyError):
        profiles.get("ut10")


# every profile against the $metadata of every sandbox configuration: its own passes, the others fail
OWN = {"ut11_5": "ut11_5", "erp2_5": "ut11_5", "ut11_4": "ut11_4", "erp2_4": "ut11_4", "bp3_0": "bp3_0", "unf": "unf"}


@pytest.mark.parametrize("profile_name", sorted(OWN))
@pytest.mark.parametrize("flavor", ["ut11_5", "ut11_4", "bp3_0", "unf"])
def test_each_profile_matches_its_own_metadata_only(profile_name, flavor):
    problems = profiles.get(profile_name).check_against_metadata(metadata_xml(build_schema(flavor)))
    if OWN[profile_name] == flavor:
        assert problems == []
    else:
        assert problems, f"{profile_name} must not pass on {flavor} metadata"


def test_bp_and_unf_metadata_carry_the_reference_link_fields():
    from b24sandbox.onec import start

    bp = start(flavor="bp3_0")
    try:
        idx = metadata_index(ODataClient(bp.url, bp.username, bp.password).metadata())  # over HTTP
    finally:
        bp.shutdown()
    rows = idx["Document_ПоступлениеНаРасчетныйСчет/РасшифровкаПлатежа"]
    assert {"СчетНаОплату_Key", "ДоговорКонтрагента_Key", "СуммаПлатежа", "СуммаВзаиморасчетов",
            "СпособПогашенияЗадолженности"} <= rows
    assert "Document_СчетНаОплатуПокупателю" in idx and "Document_ЗаказКлиента" not in idx
    assert {"Document_ПриходныйКассовыйОрдер", "Document_ОперацияПоПлатежнойКарте",
            "Document_СписаниеСРасчетногоСчета", "Document_РасходныйКассовыйОрдер"} <= set(idx)
    unf = metadata_index(metadata_xml(build_schema("unf")))
    assert {"Заказ", "Заказ_Type", "СуммаРасчетов", "СуммаПлатежа", "Договор_Key"} <= \
        unf["Document_ПоступлениеНаСчет/РасшифровкаПлатежа"]
    assert {"Document_ЗаказПокупателя", "Document_ПоступлениеВКассу", "Document_РасходСоСчета",
            "Document_РасходИзКассы"} <= set(unf)


def test_a_bp_profile_on_a_ut_base_names_what_is_missing():
    problems = profiles.get("bp3_0").check_against_metadata(metadata_xml(build_schema("ut11_5")))
    assert any(p.startswith("Document_СчетНаОплатуПокупателю is not published") for p in problems)
    assert any(p.startswith("Document_ПоступлениеНаРасчетныйСчет is not published") for p in problems)
