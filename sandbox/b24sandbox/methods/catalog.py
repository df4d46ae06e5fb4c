"""The CRM product catalog: crm.catalog.list, crm.productsection.add/list, crm.product.add/get/list.

Fidelity points (docs api-reference/crm/outdated/products/crm-product-*.md, crm/outdated/product-section/,
crm/outdated/catalog/crm-catalog-list.md — deprecated in favour of catalog.*, still answered by every
portal): legacy UPPER_CASE rows, ids and money as strings (``PRICE`` "1500.00"), ``add`` → the bare new
id, ``get`` of an unknown id → ``{"error": "", "error_description": "Not found"}`` 400; lists page by 50 with
``next``/``total`` hoisted and filters/orders on the row's own fields. One catalog per portal (the CRM
catalog, ``CATALOG_ID`` = ``db.catalog_id``); sections nest by ``SECTION_ID`` (the parent section).
"""
from __future__ import annotations

from ..crmcore import now_iso
from ..filters import compile_filter, page_of, parse_order, select_rows, upper_field
from ..registry import B24Fault, Paged, method
from .crm_legacy import arg

SECTION_FIELDS = ("ID", "CATALOG_ID", "SECTION_ID", "NAME", "XML_ID", "CODE")
PRODUCT_FIELDS = ("ID", "CATALOG_ID", "PRICE", "CURRENCY_ID", "NAME", "CODE", "DESCRIPTION", "DESCRIPTION_TYPE",
                  "ACTIVE", "SECTION_ID", "SORT", "VAT_ID", "VAT_INCLUDED", "MEASURE", "XML_ID", "DATE_CREATE",
                  "TIMESTAMP_X", "MODIFIED_BY", "CREATED_BY")


def _str(v):
    return None if v is None else str(v)


def _resolver(known):
    return lambda name: upper_field(name.upper()) if name.upper() in known else None


def _list(ctx, table, params, known, render) -> Paged:
    db = ctx.portal.db
    pred = compile_filter(arg(params, "filter"), _resolver(known))
    order = parse_order(arg(params, "order") or {"ID": "ASC"}, _resolver(known))
    offset, count = page_of(arg(params, "start"))
    select = arg(params, "select") or []
    if isinstance(select, dict):
        select = list(select.values())
    keep = [s.upper() for s in select if s not in ("*", "")] if select and "*" not in select else list(known)
    if "ID" not in keep:
        keep.insert(0, "ID")
    with db.lock:
        rows, total = select_rows(list(table.rows.values()), pred, order, offset, 50, count)
        out = [{k: v for k, v in render(r).items() if k in keep} for r in rows]
    if not count:
        return Paged(out)
    nxt = offset + len(out) if offset + len(out) < total else None
    return Paged(out, next=nxt, total=total)


def _fields(params) -> dict:
    f = arg(params, "fields")
    if not isinstance(f, dict):
        raise B24Fault("", "Invalid parameter: fields", 400)
    return {str(k).upper(): v for k, v in f.items()}


@method("crm.catalog.list", scope="crm")
def catalog_list(ctx, params):
    return Paged([{"ID": str(ctx.portal.db.catalog_id), "NAME": "Товарный каталог CRM", "ORIGINATOR_ID": None,
                   "ORIGINATOR_ELEMENT_ID": None, "XML_ID": "crm_external_catalog"}], total=1)


def _section_out(r: dict) -> dict:
    return {"ID": str(r["ID"]), "CATALOG_ID": str(r["CATALOG_ID"]), "SECTION_ID": _str(r.get("SECTION_ID")),
            "NAME": r["NAME"], "XML_ID": r.get("XML_ID"), "CODE": r.get("CODE")}


@method("crm.productsection.add", scope="crm")
def section_add(ctx, params):
    f = _fields(params)
    if not str(f.get("NAME") or "").strip():
        raise B24Fault("", "Section name is not specified.", 400)
    db = ctx.portal.db
    parent = f.get("SECTION_ID")
    if parent not in (None, "", 0, "0") and db.product_sections.get(parent) is None:
        raise B24Fault("", "Parent section is not found.", 400)
    row = {"CATALOG_ID": db.catalog_id, "SECTION_ID": int(parent) if parent not in (None, "", 0, "0") else None,
           "NAME": str(f["NAME"]), "XML_ID": f.get("XML_ID"), "CODE": f.get("CODE")}
    with db.lock:
        return db.product_sections.insert(row)


@method("crm.productsection.list", scope="crm")
def section_list(ctx, params):
    return _list(ctx, ctx.portal.db.product_sections, params, SECTION_FIELDS, _section_out)


def _money(v) -> str:
    return f"{float(v):.2f}"


def _product_out(r: dict) -> dict:
    out = {k: r.get(k) for k in PRODUCT_FIELDS}
    for k in ("ID", "CATALOG_ID", "SECTION_ID", "SORT", "VAT_ID", "MEASURE", "MODIFIED_BY", "CREATED_BY"):
        out[k] = _str(out[k])
    out["PRICE"] = None if r.get("PRICE") is None else _money(r["PRICE"])
    return out


@method("crm.product.add", scope="crm")
def product_add(ctx, params):
    f = _fields(params)
    if not str(f.get("NAME") or "").strip():
        raise B24Fault("", "Product name is not specified.", 400)
    db = ctx.portal.db
    section = f.get("SECTION_ID")
    if section not in (None, "", 0, "0") and db.product_sections.get(section) is None:
        raise B24Fault("", "Section is not found.", 400)
    try:
        price = None if f.get("PRICE") in (None, "") else float(f["PRICE"])
    except (TypeError, ValueError):
        raise B24Fault("", "Invalid price.", 400) from None
    now = now_iso(ctx.portal)
    row = {"CATALOG_ID": db.catalog_id, "NAME": str(f["NAME"]), "PRICE": price,
           "CURRENCY_ID": str(f.get("CURRENCY_ID") or "RUB"), "CODE": f.get("CODE"),
           "DESCRIPTION": f.get("DESCRIPTION"), "DESCRIPTION_TYPE": f.get("DESCRIPTION_TYPE") or "text",
           "ACTIVE": "N" if str(f.get("ACTIVE", "Y")).upper() in ("N", "0", "FALSE") else "Y",
           "SECTION_ID": int(section) if section not in (None, "", 0, "0") else None,
           "SORT": int(f.get("SORT") or 500), "VAT_ID": f.get("VAT_ID"), "VAT_INCLUDED": f.get("VAT_INCLUDED") or "N",
           "MEASURE": int(f.get("MEASURE") or 9), "XML_ID": f.get("XML_ID"), "DATE_CREATE": now, "TIMESTAMP_X": now,
           "MODIFIED_BY": ctx.user_id, "CREATED_BY": ctx.user_id}
    with db.lock:
        return db.products.insert(row)


@method("crm.product.get", scope="crm")
def product_get(ctx, params):
    try:
        row = ctx.portal.db.products.get(int(arg(params, "id")))
    except (TypeError, ValueError):
        raise B24Fault("", "ID is not defined or invalid.", 400) from None
    if row is None:
        raise B24Fault("", "Not found", 400)
    return _product_out(row)


@method("crm.product.list", scope="crm")
def product_list(ctx, params):
    return _list(ctx, ctx.portal.db.products, params, PRODUCT_FIELDS, _product_out)
