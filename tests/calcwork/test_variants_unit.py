"""Variant arithmetic in Decimal (no float on the money path), the manager's ±tolerance, the XLSX writer
and the settings document — pure functions, no portal."""
from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest

from b24app.errors import SettingsError
from calcwork import documents, settings
from calcwork.variants import VariantError, apply_amounts, build_variant

CATALOG = {7: {"name": "Стеклопакет", "price": "0.10", "section_id": 3},
           8: {"name": "Откос", "price": "1200.50", "section_id": 4}}


def test_float_traps_do_not_reach_the_totals():
    # 0.1 × 3 is 0.30000000000000004 in floats; here exactly 0.30 (and the coefficient's default per direction)
    v = build_variant({"name": "A", "lines": [{"product_id": 7, "quantity": 3, "coefficient": "1"},
                                              {"product_id": 8, "quantity": "0,5"}]}, "v1", CATALOG,
                      {4: Decimal("1.3")})
    assert [x["amount"] for x in v["lines"]] == ["0.30", "780.33"]          # 1200.50 × 1.3 = 1560.65; × 0.5
    assert v["lines"][1]["coefficient"] == "1.3" and v["total"] == "780.63"
    assert (v["cost"], v["margin"]) == ("600.55", "180.08")


@pytest.mark.parametrize("line,words", [
    ({"product_id": 99}, "not in the catalog"), ({"name": "Выезд"}, "needs a fixed price"),
    ({"product_id": 7, "quantity": 0}, "greater than 0"), ({"product_id": 7, "coefficient": "-1"}, "greater than 0"),
    ({"fixed": True, "name": "x", "price": "-5"}, "0 or more"),
    ({"product_id": 7, "coefficient": "abc"}, "not a number"), ({"fixed": True, "name": "x"}, "price is required")])
def test_bad_lines_are_refused_in_words(line, words):
    with pytest.raises(VariantError, match=words):
        build_variant({"name": "A", "lines": [line]}, "v1", CATALOG, {})


def test_tolerance_boundaries_are_inclusive():
    v = build_variant({"name": "A", "lines": [{"fixed": True, "name": "Монтаж", "price": "1000", "quantity": 2}]},
                      "v1", CATALOG, {})
    for amount, beyond in (("1800.00", False), ("2200.00", False), ("1799.99", True), ("2200.01", True)):
        lines, out = apply_amounts(v, {"1": amount}, Decimal(10))
        # the unit price of the product row, rounded half-up (2200.01 / 2 → 1100.01: the deal's amount is
        # what the portal computes from the rows, Σ price × quantity)
        assert bool(out) is beyond and lines[0]["amount"] == amount and lines[0]["price"] == str(
            (Decimal(amount) / 2).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"))
    with pytest.raises(VariantError, match="not in the variant"):
        apply_amounts(v, {"5": "1"}, Decimal(10))


def test_xlsx_is_a_workbook_with_the_cells():
    data = documents.xlsx("Лист <1>", [["Имя & Ко", Decimal("10.50"), 3], [None, "x"]])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert z.testzip() is None and "Лист &lt;1&gt;" in z.read("xl/workbook.xml").decode()
    assert '<c r="A1" t="inlineStr"><is><t xml:space="preserve">Имя &amp; Ко</t></is></c>' in sheet
    assert '<c r="B1"><v>10.50</v></c><c r="C1"><v>3</v></c>' in sheet and '<c r="B2" t="inlineStr">' in sheet


def test_settings_are_validated_whole():
    assert settings.validate({"tolerance_pct": "7,5", "coefficients": {"3": "1.25"}}) == {
        "tolerance_pct": "7.5", "coefficients": {"3": "1.25"}, "default_target": {"kind": "queue"},
        "proposal_template_id": None, "act_template_id": None, "work_after_payment": False, "remind_after_hours": "4"}
    assert settings.validate({"proposal_template_id": "12", "work_after_payment": True, "remind_after_hours": "0"})[
        "proposal_template_id"] == 12
    for doc, path in (({"tolerance_pct": "200"}, "tolerance_pct"), ({"coefficients": {"x": 1}}, "coefficients.x"),
                      ({"proposal_template_id": "abc"}, "proposal_template_id"),
                      ({"work_after_payment": "yes"}, "work_after_payment"),
                      ({"remind_after_hours": "-1"}, "remind_after_hours"),
                      ({"default_target": {"kind": "user"}}, "default_target.id"), ({"other": 1}, "other")):
        with pytest.raises(SettingsError) as e:
            settings.validate(doc)
        assert e.value.path == path
