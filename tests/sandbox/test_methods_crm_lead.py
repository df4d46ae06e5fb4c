"""crm.lead.* over HTTP (docs api-reference/crm/leads/): the legacy rendering, the stage as STATUS_ID from the
"STATUS" list (crm.status), its semantics and MOVED_TIME, paging, filters, user fields and the lead events."""
from __future__ import annotations

from .methods_helpers import ok, rest


def test_add_get_update_delete(portal, tok):
    lid = ok(portal, "crm.lead.add", tok, fields={
        "TITLE": "Прилавок для магазина", "NAME": "Иван", "LAST_NAME": "Петров", "COMPANY_TITLE": "ООО Ромашка",
        "PHONE": [{"VALUE": "+7 900 111-22-33", "VALUE_TYPE": "WORK"}], "OPPORTUNITY": 25000, "ASSIGNED_BY_ID": 2,
        "SOURCE_ID": "CALL"})["result"]
    assert isinstance(lid, int)
    lead = ok(portal, "crm.lead.get", tok, id=lid)["result"]
    assert lead["ID"] == str(lid) and lead["TITLE"] == "Прилавок для магазина"
    assert lead["COMPANY_TITLE"] == "ООО Ромашка"
    assert lead["STATUS_ID"] == "NEW" and lead["STATUS_SEMANTIC_ID"] == "P" and lead["OPPORTUNITY"] == "25000.00"
    assert lead["HAS_PHONE"] == "Y" and lead["HAS_EMAIL"] == "N" and lead["PHONE"][0]["VALUE"] == "+7 900 111-22-33"
    assert lead["ASSIGNED_BY_ID"] == "2" and lead["MOVED_TIME"] and lead["DATE_CLOSED"] is None
    assert "STAGE_ID" not in lead and "CATEGORY_ID" not in lead
    moved = lead["MOVED_TIME"]

    portal.clock.advance(60)
    assert ok(portal, "crm.lead.update", tok, id=lid, fields={"TITLE": "Прилавок"})["result"] is True
    assert ok(portal, "crm.lead.get", tok, id=lid)["result"]["MOVED_TIME"] == moved     # not a move
    ok(portal, "crm.lead.update", tok, id=lid, fields={"STATUS_ID": "IN_PROCESS"})
    lead = ok(portal, "crm.lead.get", tok, id=lid)["result"]
    assert lead["STATUS_ID"] == "IN_PROCESS" and lead["MOVED_TIME"] > moved and lead["TITLE"] == "Прилавок"
    ok(portal, "crm.lead.update", tok, id=lid, fields={"STATUS_ID": "JUNK"})
    lead = ok(portal, "crm.lead.get", tok, id=lid)["result"]
    assert lead["STATUS_SEMANTIC_ID"] == "F" and lead["DATE_CLOSED"]

    assert ok(portal, "crm.lead.delete", tok, id=lid)["result"] is True
    assert rest(portal, "crm.lead.get", tok, id=lid) == (400, {"error": "", "error_description": "Not found"})


def test_an_unknown_status_falls_back_to_the_first(portal, tok):
    lid = ok(portal, "crm.lead.add", tok, fields={"TITLE": "x", "STATUS_ID": "NOPE"})["result"]
    assert ok(portal, "crm.lead.get", tok, id=lid)["result"]["STATUS_ID"] == "NEW"
    lid = ok(portal, "crm.lead.add", tok, fields={})["result"]
    assert ok(portal, "crm.lead.get", tok, id=lid)["result"]["TITLE"] == f"Лид #{lid}"


def test_statuses_are_the_status_list(portal, tok):
    rows = ok(portal, "crm.status.list", tok, filter={"ENTITY_ID": "STATUS"}, order={"SORT": "ASC"})["result"]
    assert [r["STATUS_ID"] for r in rows] == ["NEW", "IN_PROCESS", "PROCESSED", "CONVERTED", "JUNK"]
    ok(portal, "crm.status.add", tok, fields={"ENTITY_ID": "STATUS", "STATUS_ID": "UC_SPEC", "NAME": "Уточнение",
                                                "SORT": 25})
    lid = ok(portal, "crm.lead.add", tok, fields={"TITLE": "x", "STATUS_ID": "UC_SPEC"})["result"]
    assert ok(portal, "crm.lead.get", tok, id=lid)["result"]["STATUS_ID"] == "UC_SPEC"


def test_list_filter_order_paging(portal, tok):
    ids = [ok(portal, "crm.lead.add", tok, fields={"TITLE": f"Лид {i}", "STATUS_ID": "IN_PROCESS" if i % 2 else "NEW",
                                                   "OPPORTUNITY": i * 100})["result"] for i in range(60)]
    b = ok(portal, "crm.lead.list", tok, order={"ID": "ASC"}, select=["ID", "STATUS_ID"])
    assert len(b["result"]) == 50 and b["next"] == 50 and b["total"] == 60
    b = ok(portal, "crm.lead.list", tok, filter={"STATUS_ID": "NEW", ">=OPPORTUNITY": 5000}, select=["ID"])
    assert [int(r["ID"]) for r in b["result"]] == [i for n, i in enumerate(ids) if n % 2 == 0 and n >= 50]
    b = ok(portal, "crm.lead.list", tok, order={"ID": "ASC"}, filter={">ID": ids[-3]}, select=["ID"], start=-1)
    assert [int(r["ID"]) for r in b["result"]] == ids[-2:] and "total" not in b


def test_fields_and_userfields(portal, tok):
    f = ok(portal, "crm.lead.fields", tok)["result"]
    assert f["STATUS_ID"]["type"] == "crm_status" and f["STATUS_ID"]["statusType"] == "STATUS"
    assert f["MOVED_TIME"]["isReadOnly"] is True and f["PHONE"]["isMultiple"] is True
    ok(portal, "crm.lead.userfield.add", tok, fields={"FIELD_NAME": "INN", "USER_TYPE_ID": "string", "LABEL": "ИНН"})
    assert "UF_CRM_INN" in ok(portal, "crm.lead.fields", tok)["result"]
    lid = ok(portal, "crm.lead.add", tok, fields={"TITLE": "x", "UF_CRM_INN": "7701234567"})["result"]
    assert ok(portal, "crm.lead.get", tok, id=lid)["result"]["UF_CRM_INN"] == "7701234567"
    assert "UF_CRM_INN" not in ok(portal, "crm.deal.fields", tok)["result"]


def test_lead_events(portal, tok, receiver):
    for ev in ("ONCRMLEADADD", "ONCRMLEADUPDATE", "ONCRMLEADDELETE"):
        ok(portal, "event.bind", tok, event=ev, handler=receiver.url + "/ev")
    lid = ok(portal, "crm.lead.add", tok, fields={"TITLE": "x"})["result"]
    ok(portal, "crm.lead.update", tok, id=lid, fields={"STATUS_ID": "IN_PROCESS"})
    ok(portal, "crm.lead.delete", tok, id=lid)
    assert portal.wait_events(3)
    got = [(r.form["event"], r.form["data[FIELDS][ID]"]) for r in receiver.got if r.path == "/ev"]
    assert got == [("ONCRMLEADADD", str(lid)), ("ONCRMLEADUPDATE", str(lid)), ("ONCRMLEADDELETE", str(lid))]
