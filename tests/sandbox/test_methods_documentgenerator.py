"""crm.documentgenerator.* over HTTP as the docs describe them (api-reference/crm/document-generator/):
template.list answers an object keyed by id with ``total``, deleted templates hidden unless asked for,
the documented filter prefixes; document.add answers the document without ``pdfUrl`` (converted later),
document.get has it; the errors of a bad call; the files behind the urls carry the deal's data."""
from __future__ import annotations

import io
import zipfile

import requests

from b24sandbox.methods import documentgenerator as docgen

from .methods_helpers import ok, rest


def test_templates_documents_and_their_files(portal, tok):
    docgen.install(portal)
    a = docgen.add_template(portal, "Коммерческое предложение", ("2", "2_category_3"))
    b = docgen.add_template(portal, "Счёт", ("31",), active="N")
    gone = docgen.add_template(portal, "Старый", ("2",))
    portal.db.documentgenerator.templates.get(gone)["isDeleted"] = "Y"
    res = ok(portal, "crm.documentgenerator.template.list", tok, select=["id", "name", "active", "entityTypeId"])
    assert set(res["result"]["templates"]) == {str(a), str(b)} and res["total"] == 2
    assert res["result"]["templates"][str(a)] == {"id": str(a), "name": "Коммерческое предложение", "active": "Y",
                                                   "entityTypeId": ["2", "2_category_3"]}
    only = ok(portal, "crm.documentgenerator.template.list", tok, filter={"active": "Y", "entityTypeId": "2"})
    assert list(only["result"]["templates"]) == [str(a)] and "download" in only["result"]["templates"][str(a)]
    deleted = ok(portal, "crm.documentgenerator.template.list", tok, filter={"isDeleted": "Y"})["result"]
    assert list(deleted["templates"]) == [str(gone)]
    assert ok(portal, "crm.documentgenerator.template.list", tok, filter={"@id": [a, b]}, order={"id": "DESC"})[
        "result"]["templates"].keys() == {str(a), str(b)}

    deal = ok(portal, "crm.deal.add", tok, fields={"TITLE": "Окна, Лесная 5", "OPPORTUNITY": 9000})["result"]
    ok(portal, "crm.item.productrow.set", tok, ownerType="D", ownerId=deal,
       productRows=[{"productName": "Подоконник", "price": 3000, "quantity": 3}])
    doc = ok(portal, "crm.documentgenerator.document.add", tok, templateId=a, entityTypeId=2, entityId=deal,
             values={"DocumentNumber": "2026-7", "Variant": "С подоконниками"})["result"]["document"]
    assert doc["title"] == "Коммерческое предложение 2026-7" and doc["number"] == "2026-7"
    assert (doc["templateId"], doc["entityTypeId"], doc["entityId"]) == (str(a), "2", str(deal))
    assert doc["values"]["_creationMethod"] == "rest" and doc["values"]["Variant"] == "С подоконниками"
    assert doc["products"] == {"currencyId": "RUB", "totalSum": "9000.00", "totalRows": 1}
    assert "pdfUrl" not in doc and "downloadUrl" in doc                              # converted asynchronously
    assert requests.get(doc["downloadUrl"], timeout=10).status_code == 200
    got = ok(portal, "crm.documentgenerator.document.get", tok, id=doc["id"])["result"]["document"]
    assert got["pdfUrl"].endswith(f"action=crm.documentgenerator.document.getPdf&SITE_ID=s1&id={doc['id']}")
    pdf = requests.get(got["pdfUrl"], timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    with zipfile.ZipFile(io.BytesIO(requests.get(doc["downloadUrl"], timeout=10).content)) as z:
        body = z.read("word/document.xml").decode()
    assert "Окна, Лесная 5" in body and "Variant: С подоконниками" in body and "Подоконник" in body
    listed = ok(portal, "crm.documentgenerator.document.list", tok, filter={"entityId": str(deal)})
    assert [d["id"] for d in listed["result"]["documents"]] == [doc["id"]] and listed["total"] == 1

    # the documented refusals
    for params, text in (({"templateId": 999, "entityTypeId": 2, "entityId": deal}, "Template not found"),
                         ({"templateId": gone, "entityTypeId": 2, "entityId": deal},
                          "Cannot create document on deleted template"),
                         ({"templateId": a, "entityTypeId": 999, "entityId": deal}, "No provider for entityTypeId"),
                         ({"templateId": a, "entityTypeId": 2}, 'Empty required parameter "value"')):
        status, body = rest(portal, "crm.documentgenerator.document.add", tok, **params)
        assert status == 400 and body["error_description"] == text
    assert rest(portal, "crm.documentgenerator.document.get", tok, id=999)[0] == 400
    assert requests.get(f"{portal.url}/bitrix/services/main/ajax.php?action=crm.documentgenerator.document.getPdf"
                        f"&SITE_ID=s1&id=999", timeout=10).status_code == 404
