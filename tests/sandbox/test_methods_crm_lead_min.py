"""The minimal crm.lead.add/get/list (methods/crm_lead_min.py) over HTTP: the id answered, the lead read back
with its phone as a multi-field, listed by equality and substring, "Not found" for a missing one, and the
methods left to a full crm_lead module wherever one registered them first."""
from __future__ import annotations

import importlib.util

from b24sandbox.methods import crm_lead_min
from b24sandbox.registry import METHODS

from .methods_helpers import ok, rest


def test_add_get_list(portal, tok):
    lid = ok(portal, "crm.lead.add", tok, fields={"TITLE": "Пропущенный звонок", "SOURCE_ID": "CALL",
                                                  "PHONE": [{"VALUE": "+79054443322", "VALUE_TYPE": "WORK"}]})["result"]
    lead = ok(portal, "crm.lead.get", tok, id=lid)["result"]
    assert (lead["ID"], lead["TITLE"], lead["STATUS_ID"], lead["SOURCE_ID"], lead["HAS_PHONE"]) == \
        (str(lid), "Пропущенный звонок", "NEW", "CALL", "Y")
    assert lead["PHONE"][0]["VALUE"] == "+79054443322" and lead["PHONE"][0]["TYPE_ID"] == "PHONE"
    ok(portal, "crm.lead.add", tok, fields={"TITLE": "Другой", "SOURCE_ID": "WEB"})
    got = ok(portal, "crm.lead.list", tok, filter={"SOURCE_ID": "CALL"}, select=["ID", "TITLE"])
    assert got["total"] == 1 and got["result"] == [{"ID": str(lid), "TITLE": "Пропущенный звонок"}]
    assert ok(portal, "crm.lead.list", tok, filter={"%TITLE": "друг"})["total"] == 1
    status, body = rest(portal, "crm.lead.get", tok, id=999)
    assert (status, body["error_description"]) == (400, "Not found")


def test_a_full_module_registered_first_keeps_its_methods():
    spec = METHODS["crm.lead.add"]
    if spec.fn is crm_lead_min.lead_add:            # no full module in this tree: the minimal one answers
        assert importlib.util.find_spec("b24sandbox.methods.crm_lead") is None
    else:                                           # crm_lead.py is here: it was imported first and kept its own
        assert spec.fn.__module__ == "b24sandbox.methods.crm_lead"
