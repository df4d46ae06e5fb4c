"""Order-number normalisation: what managers type vs what 1C stores, and the yearly restart."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from sync_1c.numbers import OrderNumber, match_key, normalize, parse, same_order, year_window


@pytest.mark.parametrize("typed", ["ТД00-000123", "тд00-000123", " ТД00 000123 ", "TД00-123",   # Latin T
                                   "ТД00–000123", "ТД00000123", "№ ТД00-000123", "ТД 00-000123"])
def test_typed_variants_parse_to_same_counter(typed):
    n = parse(typed)
    assert n.counter == "123"
    assert n.compatible(parse("ТД00-000123"))


def test_latin_lookalikes_become_cyrillic():
    assert normalize("yt-00001004") == "УТ-00001004"
    assert normalize("ABCEHKMOPTXY") == "АВСЕНКМОРТХУ"


def test_prefixes_and_zeros():
    assert parse("УТ-00001004") == OrderNumber("УТ", "1004")
    assert parse("00000000001") == OrderNumber("", "1")
    assert parse("№ 45") == OrderNumber("", "45")
    assert parse("ТД00-000000").counter == "0"
    with pytest.raises(ValueError):
        parse("ТД-")
    with pytest.raises(ValueError):
        parse("   ")


def test_bare_number_matches_prefixed_but_different_prefixes_do_not():
    assert parse("123").compatible(parse("ТД00-000123"))
    assert not parse("УТ-000123").compatible(parse("ТД00-000123"))
    assert not parse("ТД00-000124").compatible(parse("ТД00-000123"))


def test_yearly_restart_keeps_same_number_in_two_years_distinct():
    k2025 = match_key("ТД00-000123", datetime(2025, 3, 1))
    k2026 = match_key("ТД00-000123", date(2026, 3, 1))
    assert k2025 != k2026
    assert k2025 == match_key("тд00 123", 2025)
    assert not same_order("ТД00-000123", date(2025, 12, 31), "ТД00-000123", date(2026, 1, 1))
    assert same_order("ТД00-000123", date(2025, 1, 1), "123", date(2025, 12, 31))


def test_yearly_key_without_date_is_refused_and_non_yearly_ignores_year():
    with pytest.raises(ValueError):
        match_key("ТД00-000123", None)
    assert match_key("00042", None, restarts_yearly=False) == match_key("42", 2030, restarts_yearly=False)


def test_key_with_prefix_ignores_padding_zeros_of_prefix():
    assert match_key("ТД00-000123", 2025, with_prefix=True) == match_key("ТД000123", 2025, with_prefix=True)
    assert match_key("УТ-123", 2025, with_prefix=True) != match_key("ТД00-123", 2025, with_prefix=True)


def test_year_window():
    assert year_window(2026) == (datetime(2026, 1, 1), datetime(2027, 1, 1))
