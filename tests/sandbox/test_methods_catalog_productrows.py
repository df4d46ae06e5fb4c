"""The product catalog (crm.catalog.list, crm.productsection.*, crm.product.*) and product rows
(crm.item.productrow.set/list/get, crm.deal.productrows.get) over HTTP, as the docs describe them: the set
replaces the whole set and recalculates the owner's amount, one bad row changes nothing, the owner's
permissions apply, list needs its owner keys."""
from __future__ import annotations

from .methods_helpers import ok, rest


def _catalog(portal, tok):
    cat = ok(portal, "crm.catalog.list", tok)["result"][0]["ID"]
    sec = ok(portal, "crm.productsection.add", tok, fields={"NAME": "Новостройки", "CATALOG_ID": cat})["result"]
    other = ok(portal, "crm.productsection.add", tok, fields={"NAME": "Вторичка"})["result"]
    p1 = ok(portal, "crm.product.add", tok, fields={"NAME": "Замена стеклопакета", "PRICE": 4500,
                                                     "SECTION_ID": sec, "MEASURE": 796})["result"]
    p2 = ok(portal, "crm.product.add", tok, fields={"NAME": "Монтаж откоса", "PRICE": "1200.5",
                                                     "SECTION_ID": sec})["result"]
    p3 = ok(portal, "crm.product.add", tok, fields={"NAME": "Демонтаж", "PRICE": 800, "SECTION_ID": other})["result"]
    return cat, sec, other, (p1, p2, p3)


def test_catalog_sections_and_products(portal, tok):
    cat, sec, other, (p1, p2, p3) = _catalog(portal, tok)
    assert isinstance(sec, int) and isinstance(p1, int)
    secs = ok(portal, "crm.productsection.list", tok, filter={"CATALOG_ID": cat}, select=["ID", "NAME"])
    assert [(s["ID"], s["NAME"]) for s in secs["result"]] == [(str(sec), "Новостройки"), (str(other), "Вторичка")]
    assert secs["total"] == 2 and set(secs["result"][0]) == {"ID", "NAME"}
    prods = ok(portal, "crm.product.list", tok, filter={"SECTION_ID": sec}, order={"NAME": "ASC"},
               select=["ID", "NAME", "PRICE", "CURRENCY_ID", "SECTION_ID"])["result"]
    assert [(p["NAME"], p["PRICE"], p["CURRENCY_ID"], p["SECTION_ID"]) for p in prods] == \
        [("Замена стеклопакета", "4500.00", "RUB", str(sec)), ("Монтаж откоса", "1200.50", "RUB", str(sec))]
    assert ok(portal, "crm.product.get", tok, id=p3)["result"]["NAME"] == "Демонтаж"
    assert rest(portal, "crm.product.get", tok, id=9999) == (400, {"error": "", "error_description": "Not found"})
    assert rest(portal, "crm.product.add", tok, fields={"NAME": ""})[0] == 400


def test_productrow_set_replaces_and_recalculates_the_deal(portal, tok):
    _, _, _, (p1, p2, p3) = _catalog(portal, tok)
    deal = ok(portal, "crm.deal.add", tok, fields={"TITLE": "Окна"})["result"]
    res = ok(portal, "crm.item.productrow.set", tok, ownerType="D", ownerId=deal, productRows=[
        {"productId": p1, "price": 4500, "quantity": 3}, {"productName": "Выезд", "price": 1000.5}])["result"]
    rows = res["productRows"]
    assert [(r["productId"], r["productName"], r["price"], r["quantity"], r["ownerType"], r["ownerId"], r["type"])
            for r in rows] == [(p1, "Замена стеклопакета", 4500, 3, "D", deal, 4),
                               (0, "Выезд", 1000.5, 1, "D", deal, 1)]
    assert ok(portal, "crm.deal.get", tok, id=deal)["result"]["OPPORTUNITY"] == "14500.50"
    # the whole set again: the first row kept by id, the second gone, a new one added
    res = ok(portal, "crm.item.productrow.set", tok, ownerType="D", ownerId=deal, productRows=[
        {"id": rows[0]["id"], "productId": p1, "price": 4000, "quantity": 2},
        {"productId": p2, "price": 1200, "quantity": 1, "taxRate": 20, "taxIncluded": "Y"}])["result"]["productRows"]
    assert res[0]["id"] == rows[0]["id"] and res[1]["id"] not in (rows[0]["id"], rows[1]["id"])
    assert round(res[1]["priceExclusive"], 2) == 1000.0 and res[1]["priceBrutto"] == 1200.0
    listed = ok(portal, "crm.item.productrow.list", tok, filter={"=ownerType": "D", "=ownerId": deal})["result"]
    assert [r["id"] for r in listed["productRows"]] == [r["id"] for r in res]
    assert ok(portal, "crm.deal.get", tok, id=deal)["result"]["OPPORTUNITY"] == "9200.00"
    legacy = ok(portal, "crm.deal.productrows.get", tok, id=deal)["result"]
    assert [(r["PRODUCT_ID"], r["PRICE"], r["QUANTITY"]) for r in legacy] == [(p1, 4000, 2), (p2, 1200, 1)]
    got = ok(portal, "crm.item.productrow.get", tok, id=res[0]["id"])["result"]["productRow"]
    assert got["productName"] == "Замена стеклопакета"
    # an empty set leaves the deal without rows and with a zero amount
    ok(portal, "crm.item.productrow.set", tok, ownerType="D", ownerId=deal, productRows=[])
    assert ok(portal, "crm.deal.get", tok, id=deal)["result"]["OPPORTUNITY"] == "0.00"


def test_productrow_set_refusals_change_nothing(portal, tok):
    _, _, _, (p1, _, _) = _catalog(portal, tok)
    deal = ok(portal, "crm.deal.add", tok, fields={"TITLE": "Окна"})["result"]
    ok(portal, "crm.item.productrow.set", tok, ownerType="D", ownerId=deal,
       productRows=[{"productId": p1, "price": 10}])
    status, body = rest(portal, "crm.item.productrow.set", tok, ownerType="D", ownerId=deal, productRows=[
        {"productId": p1, "price": 20}, {"productId": 99999, "price": 5}])
    assert status == 400 and body["error"] == "INVALID_ARG_VALUE"
    rows = ok(portal, "crm.item.productrow.list", tok, filter={"=ownerType": "D", "=ownerId": deal})["result"]
    assert [r["price"] for r in rows["productRows"]] == [10]
    assert rest(portal, "crm.item.productrow.set", tok, ownerType="D", ownerId=99999, productRows=[])[1] == \
        {"error": "OWNER_NOT_FOUND", "error_description": "Owner was not found"}
    assert rest(portal, "crm.item.productrow.set", tok, ownerType="CO", ownerId=1, productRows=[])[1]["error"] == \
        "ENTITY_TYPE_NOT_SUPPORTED"
    assert rest(portal, "crm.item.productrow.list", tok,
                filter={"=ownerId": deal})[1]["error"] == "REQUIRED_ARG_MISSING"


def test_productrows_follow_the_owner_permissions_and_spa_flag(portal, tok):
    deal = ok(portal, "crm.deal.add", tok, fields={"TITLE": "Чужая", "ASSIGNED_BY_ID": 1})["result"]
    portal.set_crm_role(3, {"deal": "own"})
    other = portal.issue_tokens("local.dom0000.87654321", 3).access.token
    assert rest(portal, "crm.item.productrow.set", other, ownerType="D", ownerId=deal,
                productRows=[{"productName": "x", "price": 1}])[1]["error"] == "ACCESS_DENIED"
    assert rest(portal, "crm.item.productrow.list", other,
                filter={"=ownerType": "D", "=ownerId": deal})[1]["error"] == "ACCESS_DENIED"
    plain = ok(portal, "crm.type.add", tok, fields={"title": "Без товаров"})["result"]["type"]
    with_p = ok(portal, "crm.type.add", tok, fields={"title": "С товарами", "isLinkWithProductsEnabled": "Y"}
                )["result"]["type"]
    for t, ok_ in ((plain, False), (with_p, True)):
        item = ok(portal, "crm.item.add", tok, entityTypeId=t["entityTypeId"], fields={"title": "i"})["result"]["item"]
        status, body = rest(portal, "crm.item.productrow.set", tok, ownerType=f"T{t['entityTypeId']:x}",
                            ownerId=item["id"], productRows=[{"productName": "Расчёт", "price": 100, "quantity": 2}])
        if ok_:
            assert status == 200 and body["result"]["productRows"][0]["ownerType"] == f"T{t['entityTypeId']:x}"
            got = ok(portal, "crm.item.get", tok, entityTypeId=t["entityTypeId"], id=item["id"])["result"]["item"]
            assert got["opportunity"] == 200
        else:
            assert body["error"] == "ENTITY_TYPE_NOT_SUPPORTED"


def test_document_generator_is_absent_like_on_a_portal_without_it(portal, tok):
    # the documented answer of a portal without the documentgenerator module (tests/sandbox/
    # test_methods_documentgenerator.py: the module installed)
    status, body = rest(portal, "crm.documentgenerator.template.list", tok)
    assert status == 400 and body == {"error": "", "error_description": "Module documentgenerator is not installed"}
