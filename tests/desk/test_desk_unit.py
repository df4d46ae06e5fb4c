"""Phone normalisation and warranty arithmetic: pure functions, fixed dates."""
from __future__ import annotations

from datetime import date

import pytest

from desk.phone import PhoneError, normalise, search_values
from desk.warranty import warranty_left


@pytest.mark.parametrize("raw", ["+7 (916) 555-12-34", "8 916 555 12 34", "89165551234", "7-916-555-12-34",
                                 "9165551234", " +7(916)5551234 "])
def test_russian_numbers_normalise_to_one_form(raw):
    assert normalise(raw) == "+79165551234"


@pytest.mark.parametrize("raw", ["", "abc", "12345", "+7 916 555", "8 916 555 12 34 55", "916-555-12-3x"])
def test_non_numbers_are_rejected(raw):
    with pytest.raises(PhoneError):
        normalise(raw)


def test_search_values_ask_both_russian_forms():
    assert search_values("+79165551234") == ["+79165551234", "89165551234"]
    assert search_values("+491701234567") == ["+491701234567"]


def test_warranty_left_by_date_and_hours():
    today = date(2026, 3, 1)
    w = warranty_left("2026-04-15", 2000, 1250.5, today)
    assert (w.days_left, w.hours_left, w.on_warranty) == (45, 749.5, True)
    w = warranty_left("2026-03-01T00:00:00+03:00", None, None, today)          # the last day still counts
    assert (w.days_left, w.hours_left, w.on_warranty) == (0, None, True)
    w = warranty_left("2026-02-26", 3000, 100, today)
    assert (w.days_left, w.on_warranty) == (-3, False)
    w = warranty_left("2026-09-17", "500", "500", today)                       # hours used up
    assert (w.days_left, w.hours_left, w.on_warranty) == (200, 0.0, False)
    assert warranty_left(None, None, None, today).on_warranty is None
