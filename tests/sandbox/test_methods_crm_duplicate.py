"""crm.duplicate.findbycomm over HTTP as the docs describe it: ids by type, ``[]`` when nothing matches,
phones matched in the portal's normalised form, at most 20 values, errors for a missing type/values."""
from __future__ import annotations

from .methods_helpers import ok, rest


def _add(portal, tok, entity, phone, **fields):
    phones = [{"VALUE": phone, "VALUE_TYPE": "WORK"}]
    return ok(portal, f"crm.{entity}.add", tok, fields={**fields, "PHONE": phones})["result"]


def test_finds_contacts_and_companies_by_differently_written_phones(portal, tok):
    co = _add(portal, tok, "company", "+7 (916) 123-45-67", TITLE="ООО «Агро»")
    c1 = _add(portal, tok, "contact", "8 916 123 45 67", NAME="Иван", COMPANY_ID=co)
    _add(portal, tok, "contact", "+7 495 000-00-00", NAME="Другой")
    for written in ("+79161234567", "89161234567", "9161234567", "7 (916) 123-45-67"):
        got = ok(portal, "crm.duplicate.findbycomm", tok, type="PHONE", values=[written])["result"]
        assert got == {"CONTACT": [c1], "COMPANY": [co]}, written
    only = ok(portal, "crm.duplicate.findbycomm", tok, entity_type="COMPANY", type="PHONE",
              values=["8-916-123-45-67"])["result"]
    assert only == {"COMPANY": [co]}


def test_nothing_found_is_an_empty_array(portal, tok):
    _add(portal, tok, "contact", "+7 916 123-45-67", NAME="Иван")
    assert ok(portal, "crm.duplicate.findbycomm", tok, type="PHONE", values=["+7 900 000-00-00"])["result"] == []


def test_email_matches_case_insensitively(portal, tok):
    cid = ok(portal, "crm.contact.add", tok, fields={"NAME": "A", "EMAIL": [{"VALUE": "Ivan@Agro.ru"}]})["result"]
    found = ok(portal, "crm.duplicate.findbycomm", tok, type="EMAIL", values=["ivan@agro.ru"])["result"]
    assert found == {"CONTACT": [cid]}


def test_bad_params_are_400(portal, tok):
    status, body = rest(portal, "crm.duplicate.findbycomm", tok, values=["1"])
    assert status == 400 and body["error"] == "Communication type is not defined"
    status, body = rest(portal, "crm.duplicate.findbycomm", tok, type="FAX", values=["1"])
    assert status == 400 and "'FAX' is not supported" in body["error"]
    status, body = rest(portal, "crm.duplicate.findbycomm", tok, type="PHONE")
    assert status == 400 and body["error"] == "Communication values is not defined"
    status, body = rest(portal, "crm.duplicate.findbycomm", tok, type="PHONE", values=[str(i) for i in range(21)])
    assert status == 400 and "20" in body["error_description"]
    assert ok(portal, "crm.duplicate.findbycomm", tok, type="PHONE", values=[str(i) for i in range(20)])["result"] == []
