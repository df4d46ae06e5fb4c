"""The documents of the flow: the commercial proposal (the chosen variant) and the act of completed work,
rendered by the app as XLSX and attached to the timeline (``crm.timeline.comment.add`` FILES).

Two paths. Where the administrator named a template of the portal's document generator in the flow's
settings (``proposal_template_id`` / ``act_template_id``) and the portal answers it, the document is the
portal's: ``crm.documentgenerator.document.add`` {templateId, entityTypeId, entityId, values} → the
document with its ``downloadUrl`` and, once the portal converted it (asynchronous, so the first answer may
lack it), ``pdfUrl`` from ``crm.documentgenerator.document.get``. Everywhere else — no template set, the
module not installed ("Module documentgenerator is not installed"; older portals: ERROR_METHOD_NOT_FOUND),
the template deleted or switched off — the app renders its own XLSX and attaches it to the timeline.

The XLSX is written by hand (Office Open XML, inline strings, no styles): a few kilobytes, no extra
dependency; Excel, LibreOffice and Google Sheets open it.
"""
from __future__ import annotations

import base64
import io
import logging
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape

from b24app.errors import B24Error
from b24app.i18n import lang_of

log = logging.getLogger("b24app.calcwork.documents")

WORDS = {
    "ru": {"proposal": "Коммерческое предложение", "act": "Акт выполненных работ", "deal": "Сделка",
           "variant": "Вариант", "n": "№", "name": "Наименование", "qty": "Кол-во", "price": "Цена",
           "amount": "Сумма", "total": "Итого", "contract": "Договор", "engineer": "Исполнитель",
           "report": "Выполнено", "date": "Дата"},
    "en": {"proposal": "Commercial proposal", "act": "Act of completed work", "deal": "Deal",
           "variant": "Variant", "n": "No.", "name": "Item", "qty": "Qty", "price": "Price",
           "amount": "Amount", "total": "Total", "contract": "Contract", "engineer": "Performed by",
           "report": "Work done", "date": "Date"},
}


def _absent(exc: B24Error) -> bool:
    return (exc.code or "").upper() in ("ERROR_METHOD_NOT_FOUND", "METHOD_NOT_FOUND") or exc.status == 404 \
        or "not installed" in (exc.description or "").lower()


def generator_present(client) -> bool:
    """Does this portal answer the document generator? (absent: "Module documentgenerator is not installed",
    or ERROR_METHOD_NOT_FOUND)"""
    try:
        client.call("crm.documentgenerator.template.list", {"select": ["id"]})
        return True
    except B24Error as exc:
        if _absent(exc):
            return False
        raise


def via_generator(client, template_id, entity_type_id: int, entity_id: int, values: dict) -> dict | None:
    """The document made by the portal's generator from ``template_id`` for the CRM object, or None where
    this portal cannot (no module, no such active template): the caller renders its own then."""
    try:
        found = client.call("crm.documentgenerator.template.list", {
            "select": ["id", "name", "active", "entityTypeId"], "filter": {"id": int(template_id)}}) or {}
    except B24Error as exc:
        if _absent(exc) or (exc.code or "").upper() == "DOCGEN_ACCESS_ERROR":
            log.info("document generator not usable (%s): the app renders the document", exc.code or exc.description)
            return None
        raise
    tpl = (found.get("templates") or {}).get(str(int(template_id))) if isinstance(found, dict) else None
    if not tpl or str(tpl.get("active") or "Y") != "Y":
        return None
    doc = client.call("crm.documentgenerator.document.add", {
        "templateId": int(template_id), "entityTypeId": int(entity_type_id), "entityId": int(entity_id),
        "values": {k: str(v) for k, v in values.items()}})["document"]
    if not doc.get("pdfUrl"):                        # converted asynchronously: read it again once
        doc = client.call("crm.documentgenerator.document.get", {"id": int(doc["id"])})["document"]
    return {"source": "generator", "id": int(doc["id"]), "template_id": int(template_id),
            "title": str(doc.get("title") or tpl.get("name") or ""), "number": doc.get("number"),
            "url": doc.get("downloadUrl"), "pdf": doc.get("pdfUrl") or None}


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def xlsx(title: str, rows: list[list]) -> bytes:
    """One sheet of ``rows`` (strings as inline strings, Decimal/int/float as numbers)."""
    body = "".join(f'<row r="{r + 1}">' + "".join(_cell(f"{_col(c)}{r + 1}", v) for c, v in enumerate(row)
                                                 if v is not None) + "</row>" for r, row in enumerate(rows))
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        f'<sheet name="{escape(title[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData>{body}</sheetData></worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def _lines_table(w: dict, lines: list[dict]) -> list[list]:
    out = [[w["n"], w["name"], w["qty"], w["price"], w["amount"]]]
    for i, x in enumerate(lines, 1):
        out.append([i, x["name"], Decimal(x["quantity"]), Decimal(x["price"]) if x.get("price") else None,
                    Decimal(x["amount"])])
    out.append([None, w["total"], None, None, sum((Decimal(x["amount"]) for x in lines), Decimal("0.00"))])
    return out


def proposal(lang: str, deal: dict, variant_name: str, lines: list[dict], date: str) -> tuple[str, bytes]:
    w = WORDS[lang_of(lang) if lang_of(lang) in WORDS else "ru"]
    rows = [[w["proposal"]], [w["deal"], f"{deal.get('TITLE') or ''} #{deal['ID']}"], [w["variant"], variant_name],
            [w["date"], date], [], *_lines_table(w, lines)]
    return f"proposal-deal-{deal['ID']}.xlsx", xlsx(w["proposal"], rows)


def act(lang: str, deal: dict, work: dict, engineer: str, report: str, date: str) -> tuple[str, bytes]:
    w = WORDS[lang_of(lang) if lang_of(lang) in WORDS else "ru"]
    rows = [[w["act"]], [w["deal"], f"{deal.get('TITLE') or ''} #{deal['ID']}"],
            [w["contract"], work.get("contract") or "—"], [w["engineer"], engineer], [w["date"], date],
            [w["report"], report], [], *_lines_table(w, work.get("lines") or [])]
    return f"act-work-{work['id']}.xlsx", xlsx(w["act"], rows)


def as_file(name: str, content: bytes) -> list[str]:
    """``[name, base64]`` — what FILES of crm.timeline.comment.add takes."""
    return [name, base64.b64encode(content).decode()]
