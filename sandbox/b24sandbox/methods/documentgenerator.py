"""The CRM document generator: crm.documentgenerator.template.list/get, crm.documentgenerator.document.add/
get/list, and the files behind a document's ``downloadUrl`` / ``pdfUrl``.

Fidelity points (docs api-reference/crm/document-generator/templates/crm-document-generator-template-list.md,
.../documents/crm-document-generator-document-add.md, -get.md, -list.md): camelCase controller answers with
ids as strings inside the objects; ``template.list`` answers ``{"templates": {"<id>": {...}}}`` (an object
keyed by id, not a list) with ``total`` hoisted, 50 a page, ``isDeleted = N`` unless filtered, filters with
the documented prefixes (``=`` ``!`` ``!=`` ``@`` ``!@`` ``>`` ``>=`` ``<`` ``<=``); ``document.add`` answers
``{"document": {...}}`` without ``pdfUrl``/``imageUrl`` — the portal converts asynchronously — and a later
``document.get`` has them; errors are 400 with an empty or "0" code and the documented descriptions ("Module
documentgenerator is not installed", "Template not found", "No provider for entityTypeId", "Empty required
parameter \"value\"", "Cannot create document on deleted template").

A portal has the module only after ``install(portal)`` (a test's setting; the demo portal has none, like a
box without it), templates come from ``add_template`` (template.add needs an uploaded .docx, which the app
never does). The files: ``/bitrix/services/main/ajax.php?action=crm.documentgenerator.document.download``
(a small .docx) and ``...getPdf`` (a one-page PDF) with the document's template name, number, the object's
title and the values — what a test reads to see the document was made from this deal. Not modelled: the
numerator, stamps, QR codes, the timeline entry the portal adds for a new document, access rights
(DOCGEN_ACCESS_ERROR), the per-plan document limit.
"""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from ..crmcore import now_iso
from ..db import Table
from ..registry import B24Fault, Paged, method
from .crm_legacy import arg

AJAX = "/bitrix/services/main/ajax.php"
TEMPLATE_FIELDS = ("id", "name", "region", "code", "active", "moduleId", "numeratorId", "withStamps", "isDeleted",
                   "sort", "createTime", "updateTime")


class _Module:
    def __init__(self):
        self.templates = Table("b_documentgenerator_template")
        self.documents = Table("b_documentgenerator_document")
        self.files: dict[int, dict] = {}          # document id -> {"docx": bytes, "pdf": bytes}
        self.converted: set[int] = set()


def install(portal) -> None:
    """The documentgenerator module on this portal (idempotent)."""
    if getattr(portal.db, "documentgenerator", None) is None:
        portal.db.documentgenerator = _Module()


def add_template(portal, name: str, entity_type_ids=("2",), *, active: str = "Y", region: str = "ru") -> int:
    install(portal)
    mod = portal.db.documentgenerator
    now = now_iso(portal)
    row = {"name": name, "region": region, "code": None, "active": active, "moduleId": "crm", "numeratorId": "1",
           "withStamps": "N", "isDeleted": "N", "sort": "500", "createTime": now, "updateTime": now,
           "users": ["UA"], "entityTypeId": [str(x) for x in entity_type_ids]}
    with portal.db.lock:
        return mod.templates.insert(row, "id")


def _module(ctx) -> _Module:
    mod = getattr(ctx.portal.db, "documentgenerator", None)
    if mod is None:
        raise B24Fault("", "Module documentgenerator is not installed", 400)
    return mod


def _tpl_out(portal, row: dict, select) -> dict:
    base = portal.url
    full = {**{k: (str(v) if k in ("id", "numeratorId", "sort") and v is not None else v) for k, v in row.items()},
            "download": f"{base}{AJAX}?action=crm.documentgenerator.template.download&SITE_ID=s1&id={row['id']}",
            "downloadMachine": f"{base}/rest/crm.documentgenerator.template.download.json?id={row['id']}"}
    if not select or "*" in select:
        return full
    keep = set(select) | {"id"}
    return {k: v for k, v in full.items() if k in keep}


def _match(row: dict, filt: dict) -> bool:
    for raw, want in (filt or {}).items():
        key = str(raw)
        op = next((p for p in ("!@", "!=", ">=", "<=", "@", "=", "!", ">", "<") if key.startswith(p)), "=")
        field = key[len(op):] if key.startswith(op) else key
        have = row.get(field)
        if field == "entityTypeId":
            wanted = {str(w) for w in (want if isinstance(want, list) else [want])}
            hit = bool(wanted & set(have or []))
            if (op in ("!", "!=", "!@")) == hit:
                return False
            continue
        have_s = str(have) if have is not None else ""
        wants = [str(w) for w in want] if isinstance(want, list) else [str(want)]
        if op in ("=", "@") and have_s not in wants:
            return False
        if op in ("!", "!=", "!@") and have_s in wants:
            return False
        if op in (">", ">=", "<", "<="):
            try:
                a, b = float(have_s), float(wants[0])
            except ValueError:
                a, b = have_s, wants[0]
            if not {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]:
                return False
    return True


@method("crm.documentgenerator.template.list", scope="crm")
def template_list(ctx, params):
    mod = _module(ctx)
    filt = dict(arg(params, "filter") or {})
    if not any(str(k).lstrip("=!@<>") == "isDeleted" for k in filt):
        filt["isDeleted"] = "N"
    select = arg(params, "select") or ["*"]
    if isinstance(select, dict):
        select = list(select.values())
    order = arg(params, "order") or {"id": "ASC"}
    try:
        start = max(int(arg(params, "start") or 0), 0)
    except (TypeError, ValueError):
        start = 0
    with ctx.portal.db.lock:
        rows = [r for r in mod.templates.rows.values() if _match(r, filt)]
    for key, direction in reversed(list((order or {}).items())):
        rows.sort(key=lambda r, k=key: (str(r.get(k)).zfill(12) if k in ("id", "sort") else str(r.get(k))),
                  reverse=str(direction).upper() == "DESC")
    page = rows[start:start + 50]
    out = {"templates": {str(r["id"]): _tpl_out(ctx.portal, r, select) for r in page}}
    nxt = start + 50 if start + 50 < len(rows) else None
    return Paged(out, next=nxt, total=len(rows))


@method("crm.documentgenerator.template.get", scope="crm")
def template_get(ctx, params):
    mod = _module(ctx)
    row = mod.templates.get(_int(arg(params, "id")))
    if row is None or row.get("isDeleted") == "Y":
        raise B24Fault("", "Template not found", 400)
    return {"template": _tpl_out(ctx.portal, row, ["*"])}


def _int(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def _doc_out(portal, mod: _Module, row: dict) -> dict:
    base, did = portal.url, row["id"]
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out.update(downloadUrl=f"{base}{AJAX}?action=crm.documentgenerator.document.download&SITE_ID=s1&id={did}",
               downloadUrlMachine=f"{base}/rest/crm.documentgenerator.document.download.json?id={did}",
               publicUrl=None, isTransformationError=False, pullTag=f"TRANSFORMDOCUMENT{did}")
    if did in mod.converted:
        out.update(pdfUrl=f"{base}{AJAX}?action=crm.documentgenerator.document.getPdf&SITE_ID=s1&id={did}",
                   imageUrl=f"{base}{AJAX}?action=crm.documentgenerator.document.getImage&SITE_ID=s1&id={did}")
    return out


@method("crm.documentgenerator.document.add", scope="crm")
def document_add(ctx, params):
    mod = _module(ctx)
    db = ctx.portal.db
    tpl = mod.templates.get(_int(arg(params, "templateId")))
    if tpl is None:
        raise B24Fault("", "Template not found", 400)
    if tpl.get("isDeleted") == "Y":
        raise B24Fault("", "Cannot create document on deleted template", 400)
    etid = _int(arg(params, "entityTypeId"))
    table = db.table_for(etid) if etid else None
    if table is None:
        raise B24Fault("0", "No provider for entityTypeId", 400)
    eid = _int(arg(params, "entityId"))
    if not eid:
        raise B24Fault("0", 'Empty required parameter "value"', 400)
    entity = table.get(eid)
    if entity is None:
        raise B24Fault("0", "Cannot create document", 400)
    values = arg(params, "values") or {}
    if not isinstance(values, dict):
        values = {}
    values = {str(k): ("" if v is None else str(v)) for k, v in values.items()}
    rows = [r for r in db.product_rows.rows.values()
            if str(r.get("OWNER_TYPE")) == "D" and int(r.get("OWNER_ID") or 0) == eid] if etid == 2 else []
    with db.lock:
        number = values.get("DocumentNumber") or str(len(mod.documents.rows) + 1)
        now = now_iso(ctx.portal)
        stamps = str(arg(params, "stampsEnabled") or "0") in ("1", "Y", "true")
        row = {"title": f"{tpl['name']} {number}", "number": number, "createTime": now, "createdBy": ctx.user_id,
               "updateTime": now, "updatedBy": None, "changeStampsEnabled": False,
               "changeStampsDisabledReason": "The template is missing seals and signatures",
               "changeQrCodeEnabled": False, "qrCodeEnabled": False,
               "changeQrCodeDisabledReason": "The template is missing a QR code",
               "products": {"currencyId": str(entity.get("CURRENCY_ID") or "RUB"),
                            "totalSum": f"{float(entity.get('OPPORTUNITY') or 0):.2f}", "totalRows": len(rows)},
               "stampsEnabled": stamps, "templateId": str(tpl["id"]), "entityTypeId": str(etid),
               "entityId": str(eid), "emailDiskFile": None,
               "values": {"productsTableVariant": "", "_creationMethod": "rest", "stampsEnabled": stamps, **values}}
        did = mod.documents.insert(row, "id")
        row["emailDiskFile"] = 5000 + did
        lines = [tpl["name"], row["title"], str(entity.get("TITLE") or entity.get("title") or f"#{eid}"),
                 *[f"{k}: {v}" for k, v in values.items()],
                 *[f"{r.get('PRODUCT_NAME')} × {r.get('QUANTITY')} = {r.get('PRICE')}" for r in rows]]
        mod.files[did] = {"docx": _docx(lines), "pdf": _pdf(lines)}
        return {"document": _doc_out(ctx.portal, mod, row)}


@method("crm.documentgenerator.document.get", scope="crm")
def document_get(ctx, params):
    mod = _module(ctx)
    row = mod.documents.get(_int(arg(params, "id")))
    if row is None:
        raise B24Fault("", "Document not found", 400)
    mod.converted.add(row["id"])                 # the conversion finished by the time anyone asks again
    return {"document": _doc_out(ctx.portal, mod, row)}


@method("crm.documentgenerator.document.list", scope="crm")
def document_list(ctx, params):
    mod = _module(ctx)
    filt = arg(params, "filter") or {}
    try:
        start = max(int(arg(params, "start") or 0), 0)
    except (TypeError, ValueError):
        start = 0
    rows = [r for r in mod.documents.rows.values() if _match({k: v for k, v in r.items()}, filt)]
    page = rows[start:start + 50]
    nxt = start + 50 if start + 50 < len(rows) else None
    return Paged({"documents": [_doc_out(ctx.portal, mod, r) for r in page]}, next=nxt, total=len(rows))


# --- the files ---------------------------------------------------------------------------------------------
def _docx(lines: list[str]) -> bytes:
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(x)}</w:t></w:r></w:p>' for x in lines)
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
        'org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
        'document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
        'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
        f'openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return buf.getvalue()


def _pdf(lines: list[str]) -> bytes:
    """One page, the lines as UTF-16BE hex strings (readable back from the bytes by a test)."""
    text = " ".join(f"<{('﻿' + x).encode('utf-16-be').hex()}> Tj T*" for x in lines)
    stream = f"BT /F1 11 Tf 50 800 Td 14 TL {text} ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def ajax(portal, request):
    """``/bitrix/services/main/ajax.php?action=...&id=N``: the document's .docx / PDF (the PDF only once
    converted); anything else 404."""
    mod = getattr(portal.db, "documentgenerator", None)
    action, did = request.args.get("action", ""), _int(request.args.get("id"))
    files = mod.files.get(did) if mod is not None else None
    if files is None:
        return Response("not found", status=404)
    if action == "crm.documentgenerator.document.download":
        return Response(files["docx"], mimetype="application/vnd.openxmlformats-officedocument."
                                                 "wordprocessingml.document")
    if action == "crm.documentgenerator.document.getPdf" and did in mod.converted:
        return Response(files["pdf"], mimetype="application/pdf")
    return Response("not found", status=404)


RULES = [Rule(AJAX, endpoint=ajax, methods=["GET"])]
