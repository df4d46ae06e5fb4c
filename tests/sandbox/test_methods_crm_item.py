"""crm.item.*, crm.type.*, crm.category.*, crm.status.*, userfieldconfig.* over HTTP."""
from __future__ import annotations


from b24sandbox import demo
from b24sandbox.crmschema import uf_to_camel

from .methods_helpers import ok, rest


def test_uf_name_conversion_rules():
    assert uf_to_camel("UF_CRM_7_MY_FIELD") == "ufCrm7MyField"
    assert uf_to_camel("UF_CRM_2_1639669411830") == "ufCrm2_1639669411830"
    assert uf_to_camel("UF_CRM_1640042314192") == "ufCrm_1640042314192"
    assert uf_to_camel("UF_CRM_JOB_DATE") == "ufCrmJobDate"


def test_item_api_over_deals_shares_rows_with_legacy(portal, tok):
    item = ok(portal, "crm.item.add", tok, entityTypeId=2, fields={"title": "Через item", "opportunity": 700})
    item = item["result"]["item"]
    assert isinstance(item["id"], int) and item["opportunity"] == 700 and item["stageId"] == "NEW"
    assert item["assignedById"] == 1 and item["categoryId"] == 0
    assert ok(portal, "crm.deal.get", tok, id=item["id"])["result"]["OPPORTUNITY"] == "700.00"
    upd = ok(portal, "crm.item.update", tok, entityTypeId=2, id=item["id"], fields={"stageId": "EXECUTING"})
    assert upd["result"]["item"]["previousStageId"] == "NEW"
    assert ok(portal, "crm.item.delete", tok, entityTypeId=2, id=item["id"])["result"] == []
    assert rest(portal, "crm.item.get", tok, entityTypeId=2, id=item["id"]) == (
        400, {"error": "NOT_FOUND", "error_description": "Element not found"})
    assert rest(portal, "crm.item.list", tok, entityTypeId=999)[1]["error"] == "NOT_FOUND"


def test_spa_type_stages_items_and_events(portal, tok, receiver):
    portal.db.dynamic_type_seq = None       # a portal from before the 1030+ sequence: 128..191 first
    t = ok(portal, "crm.type.add", tok, fields={"title": "Выезды", "isCategoriesEnabled": "Y"})["result"]["type"]
    assert t["entityTypeId"] == 128 and t["id"] != t["entityTypeId"]
    t2 = ok(portal, "crm.type.add", tok, fields={"title": "Второй"})["result"]["type"]
    assert t2["entityTypeId"] == 129
    cats = ok(portal, "crm.category.list", tok, entityTypeId=128)["result"]["categories"]
    assert len(cats) == 1 and cats[0]["isDefault"] == "Y"
    cat = cats[0]["id"]
    stages = ok(portal, "crm.status.list", tok, filter={"ENTITY_ID": f"DYNAMIC_128_STAGE_{cat}"})["result"]
    assert [s["STATUS_ID"] for s in stages] == [f"DT128_{cat}:{s}" for s in
                                               ("NEW", "PREPARATION", "CLIENT", "SUCCESS", "FAIL")]
    assert stages[3]["SEMANTICS"] == "S" and stages[3]["EXTRA"]["SEMANTICS"] == "success"
    ok(portal, "event.bind", tok, event="ONCRMDYNAMICITEMADD", handler=receiver.url + "/ev")
    item = ok(portal, "crm.item.add", tok, entityTypeId=128, fields={"title": "Выезд 1", "parentId2": 5})
    item = item["result"]["item"]
    assert item["stageId"] == f"DT128_{cat}:NEW" and item["stageSemanticId"] == "P" and item["parentId2"] == 5
    assert item["entityTypeId"] == 128
    status, body = rest(portal, "crm.item.update", tok, entityTypeId=128, id=item["id"], fields={"stageId": "BAD"})
    assert status == 400 and body["error"] == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
    assert portal.wait_events(5)
    ev = [r.form for r in receiver.got if r.path == "/ev"]
    assert ev[0]["data[FIELDS][ENTITY_TYPE_ID]"] == "128" and ev[0]["data[FIELDS][ID]"] == str(item["id"])


def test_userfieldconfig_for_spa_and_original_names(portal, tok):
    t = ok(portal, "crm.type.add", tok, fields={"title": "Объекты"})["result"]["type"]
    eid = f"CRM_{t['id']}"
    name = f"UF_CRM_{t['id']}_PAYDATE"
    f = ok(portal, "userfieldconfig.add", tok, moduleId="crm", field={
        "entityId": eid, "fieldName": name, "userTypeId": "date", "editFormLabel": {"ru": "Дата оплаты"}})
    assert f["result"]["field"]["fieldName"] == name
    bad = rest(portal, "userfieldconfig.add", tok, moduleId="crm", field={
        "entityId": eid, "fieldName": "UF_CRM_PAYDATE", "userTypeId": "date"})
    assert bad[0] == 400
    etid = t["entityTypeId"]
    camel = uf_to_camel(name)
    it = ok(portal, "crm.item.add", tok, entityTypeId=etid, fields={"title": "x", camel: "2026-02-01"})
    assert it["result"]["item"][camel] == "2026-02-01T00:00:00+03:00"
    got = ok(portal, "crm.item.get", tok, entityTypeId=etid, id=it["result"]["item"]["id"], useOriginalUfNames="Y")
    assert name in got["result"]["item"]
    fields = ok(portal, "crm.item.fields", tok, entityTypeId=etid)["result"]["fields"]
    assert fields[camel]["upperName"] == name and fields["stageId"]["upperName"] == "STAGE_ID"
    lst = ok(portal, "userfieldconfig.list", tok, moduleId="crm", filter={"entityId": eid})["result"]["fields"]
    assert [x["fieldName"] for x in lst] == [name]


def test_item_list_filters_order_and_controller_paging(portal, tok):
    demo.seed_deals(portal.db, 120)
    b = ok(portal, "crm.item.list", tok, entityTypeId=2, select=["id", "title"], order={"id": "ASC"}, start=75)
    assert b["result"]["items"][0]["id"] == 51 and b["next"] == 100 and b["total"] == 120
    assert set(b["result"]["items"][0]) == {"id", "title"}
    b = ok(portal, "crm.item.list", tok, entityTypeId=2, select=["id"], filter={
        "0": {"logic": "OR", "0": {"=id": 3}, "1": {"@id": [7, 9]}}}, order={"id": "DESC"})
    assert [i["id"] for i in b["result"]["items"]] == [9, 7, 3]
    b = ok(portal, "crm.item.list", tok, entityTypeId=2, filter={">id": 110}, start=-1, select=["id"])
    assert len(b["result"]["items"]) == 10 and "next" not in b
    status, body = rest(portal, "crm.item.list", tok, entityTypeId=2, filter={"noSuchField": 1})
    assert status == 400 and body["error"] == "INVALID_ARG_VALUE"
    assert ok(portal, "crm.item.list", tok, entityTypeId=2, filter={">id": 500})["result"] == {"items": []}


def test_deal_categories_and_statuses(portal, tok):
    cat = ok(portal, "crm.category.add", tok, entityTypeId=2, fields={"name": "Монтаж"})["result"]["category"]
    n = cat["id"]
    stages = ok(portal, "crm.status.list", tok, filter={"ENTITY_ID": f"DEAL_STAGE_{n}"})["result"]
    assert stages[0]["STATUS_ID"] == f"C{n}:NEW" and stages[0]["CATEGORY_ID"] == str(n)
    sid = ok(portal, "crm.status.add", tok, fields={"ENTITY_ID": f"DEAL_STAGE_{n}", "STATUS_ID": "STARTED",
                                                   "NAME": "Монтаж начат", "SORT": 25})["result"]
    assert ok(portal, "crm.status.get", tok, id=sid)["result"]["STATUS_ID"] == f"C{n}:STARTED"
    d = ok(portal, "crm.deal.add", tok, fields={"TITLE": "m", "CATEGORY_ID": n, "STAGE_ID": f"C{n}:STARTED"})
    assert ok(portal, "crm.deal.get", tok, id=d["result"])["result"]["STAGE_ID"] == f"C{n}:STARTED"
    listed = ok(portal, "crm.category.list", tok, entityTypeId=2)["result"]["categories"]
    assert [c["id"] for c in listed] == [0, n]
    assert rest(portal, "crm.category.delete", tok, entityTypeId=2, id=n)[0] == 400     # has a deal
