"""Product rows of a CRM object: crm.item.productrow.set / .list / .get (+ legacy crm.deal.productrows.get).

Fidelity points (docs api-reference/crm/universal/product-rows/crm-item-productrow-set.md, -list.md):
``ownerType`` is the short code (``D`` deal, ``T<hex etid>`` a smart process); set replaces the whole set
(rows absent from ``productRows`` are deleted; an ``id`` of a row of another object creates a new one),
validates every row before writing (one bad row → ``INVALID_ARG_VALUE``, nothing changed), answers
``{"productRows": [...]}`` with the derived prices (``priceExclusive`` = price / (1 + tax), ``priceNetto``
before the discount, ``priceBrutto`` = netto with tax) and recalculates the owner's total (``opportunity``
= Σ price × quantity) unless the owner's amount is manual; it needs WRITE on the owner (``ACCESS_DENIED``),
an unknown owner → ``OWNER_NOT_FOUND``, a productId not in the catalog → ``INVALID_ARG_VALUE``; list needs
``=ownerType`` and ``=ownerId`` (``REQUIRED_ARG_MISSING``) and READ on the owner, sorted by ``sort``.
"""
from __future__ import annotations

from .. import crmcore, perms
from ..db import DEAL
from ..registry import B24Fault, method
from .crm_legacy import arg

MEASURES = {796: "шт", 9: "шт", 6: "м", 5: "м²", 113: "м³", 356: "ч"}


def _code(owner_type) -> str:
    """``D`` / ``T`` + the type id in lower-case hex, as the portal writes it (PHP dechex)."""
    code = str(owner_type or "").strip()
    return "T" + code[1:].lower() if code[:1] in ("T", "t") else code.upper()


def _owner(ctx, owner_type, owner_id, action: str) -> tuple[int, dict]:
    code = _code(owner_type).upper()
    if code == "D":
        etid = DEAL
    elif code.startswith("T") and len(code) > 1:
        try:
            etid = int(code[1:], 16)
        except ValueError:
            raise B24Fault("ENTITY_TYPE_NOT_SUPPORTED", "Entity type is not supported", 400) from None
        t = ctx.portal.db.type_by_entity_type_id(etid)
        if t is None or t.get("isLinkWithProductsEnabled") != "Y":       # products off on that type
            raise B24Fault("ENTITY_TYPE_NOT_SUPPORTED", "Entity type is not supported", 400)
    else:
        raise B24Fault("ENTITY_TYPE_NOT_SUPPORTED", "Entity type is not supported", 400)
    try:
        row = ctx.portal.db.table_for(etid).get(int(owner_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise B24Fault("OWNER_NOT_FOUND", "Owner was not found", 400)
    if not perms.allows(ctx, etid, action, row):
        raise perms.item_denied()
    return etid, row


def _num(v, name: str, default: float) -> float:
    if v in (None, ""):
        return default
    try:
        return float(v)
    except (TypeError, ValueError):
        raise B24Fault("INVALID_ARG_VALUE", f"Invalid value for field {name}", 400) from None


def _row(ctx, raw: dict, code: str, owner_id: int, sort: int) -> dict:
    if not isinstance(raw, dict):
        raise B24Fault("INVALID_ARG_VALUE", "Invalid value for parameter {productRows}", 400)
    db = ctx.portal.db
    pid = int(_num(raw.get("productId"), "productId", 0))
    product = db.products.get(pid) if pid else None
    if pid and product is None:
        raise B24Fault("INVALID_ARG_VALUE", f"Product {pid} was not found", 400)
    name = raw.get("productName")
    if not name and product is None:
        raise B24Fault("INVALID_ARG_VALUE", "productId or productName is required", 400)
    price = _num(raw.get("price"), "price", 0.0)            # no price → 0 even with a catalog price (docs)
    qty = _num(raw.get("quantity"), "quantity", 1.0)
    dtype = int(_num(raw.get("discountTypeId"), "discountTypeId", 2))
    rate = raw.get("taxRate")
    tax = _num(rate, "taxRate", 0.0) if rate not in (None, "") else None
    excl = price / (1 + (tax or 0) / 100)
    if dtype == 1:
        dsum = _num(raw.get("discountSum"), "discountSum", 0.0)
        netto = excl + dsum
        drate = (dsum / netto * 100) if netto else 0.0
    else:
        drate = _num(raw.get("discountRate"), "discountRate", 0.0)
        netto = excl / (1 - drate / 100) if drate < 100 else excl
        dsum = netto - excl
    measure = int(_num(raw.get("measureCode"), "measureCode", (product or {}).get("MEASURE") and 796 or 796))
    return {"OWNER_ID": owner_id, "OWNER_TYPE": code, "PRODUCT_ID": pid,
            "PRODUCT_NAME": str(name or product["NAME"]), "PRICE": round(price, 2), "PRICE_ACCOUNT": round(price, 2),
            "PRICE_EXCLUSIVE": round(excl, 8), "PRICE_NETTO": round(netto, 8),
            "PRICE_BRUTTO": round(netto * (1 + (tax or 0) / 100), 8), "QUANTITY": qty, "DISCOUNT_TYPE_ID": dtype,
            "DISCOUNT_RATE": round(drate, 8), "DISCOUNT_SUM": round(dsum, 8), "TAX_RATE": tax,
            "TAX_INCLUDED": "Y" if str(raw.get("taxIncluded") or "N").upper() == "Y" else "N",
            "TAX_NAME": str(raw.get("taxName") or ("Без НДС" if tax is None else f"НДС {tax:g}%")),
            "CUSTOMIZED": "Y", "MEASURE_CODE": measure, "MEASURE_NAME": MEASURES.get(measure, "шт"),
            "SORT": int(_num(raw.get("sort"), "sort", sort)), "XML_ID": "", "TYPE": 4 if pid else 1,
            "STORE_ID": None}


def _out(r: dict) -> dict:
    return {"id": r["ID"], "ownerId": r["OWNER_ID"], "ownerType": r["OWNER_TYPE"], "productId": r["PRODUCT_ID"],
            "productName": r["PRODUCT_NAME"], "price": r["PRICE"], "priceAccount": r["PRICE_ACCOUNT"],
            "priceExclusive": r["PRICE_EXCLUSIVE"], "priceNetto": r["PRICE_NETTO"], "priceBrutto": r["PRICE_BRUTTO"],
            "quantity": r["QUANTITY"], "discountTypeId": r["DISCOUNT_TYPE_ID"], "discountRate": r["DISCOUNT_RATE"],
            "discountSum": r["DISCOUNT_SUM"], "taxRate": r["TAX_RATE"], "taxIncluded": r["TAX_INCLUDED"],
            "taxName": r["TAX_NAME"], "customized": r["CUSTOMIZED"], "measureCode": r["MEASURE_CODE"],
            "measureName": r["MEASURE_NAME"], "sort": r["SORT"], "xmlId": r["XML_ID"], "type": r["TYPE"],
            "storeId": r["STORE_ID"]}


def rows_of(db, code: str, owner_id: int) -> list[dict]:
    rows = [r for r in db.product_rows.rows.values() if r["OWNER_TYPE"] == code and r["OWNER_ID"] == owner_id]
    return sorted(rows, key=lambda r: (r["SORT"], r["ID"]))


@method("crm.item.productrow.set", scope="crm")
def productrow_set(ctx, params):
    owner_type, owner_id, given = params.get("ownerType"), params.get("ownerId"), params.get("productRows")
    if owner_type in (None, "") or owner_id in (None, "") or given is None:
        raise B24Fault("100", "Required parameters not provided", 400)
    if isinstance(given, dict):
        given = [given[k] for k in sorted(given, key=lambda k: int(k) if str(k).isdigit() else 0)]
    if given == "":
        given = []
    if not isinstance(given, list):
        raise B24Fault("INVALID_ARG_VALUE", "Invalid value for parameter {productRows}", 400)
    db = ctx.portal.db
    with db.lock:
        etid, owner = _owner(ctx, owner_type, owner_id, "WRITE")
        code, oid = _code(owner_type), int(owner["ID"])
        new = [_row(ctx, raw, code, oid, 10 * (i + 1)) for i, raw in enumerate(given)]   # all valid, or none
        old = {r["ID"]: r for r in rows_of(db, code, oid)}
        keep: set[int] = set()
        for raw, row in zip(given, new):
            rid = raw.get("id")
            rid = int(rid) if str(rid or "").isdigit() else None
            if rid in old and rid not in keep:
                old[rid].update(row)
                keep.add(rid)
            else:
                keep.add(db.product_rows.insert(row))
        for rid in set(old) - keep:
            db.product_rows.delete(rid)
        db.product_rows.touch()
        if str(owner.get("IS_MANUAL_OPPORTUNITY") or "N") != "Y":
            total = float(round(sum(r["PRICE"] * r["QUANTITY"] for r in new), 2))
            if owner.get("OPPORTUNITY") != total:
                crmcore.update(ctx, etid, owner, {"OPPORTUNITY": total}, item_api=True)
        out = [_out(r) for r in rows_of(db, code, oid)]
    crmcore.emit(ctx, etid, "UPDATE", oid)
    return {"productRows": out}


@method("crm.item.productrow.list", scope="crm")
def productrow_list(ctx, params):
    filt = params.get("filter") if isinstance(params.get("filter"), dict) else {}
    if filt.get("=ownerType") in (None, "") or filt.get("=ownerId") in (None, ""):
        raise B24Fault("REQUIRED_ARG_MISSING", "Required fields: =ownerType, =ownerId", 400)
    db = ctx.portal.db
    with db.lock:
        _owner(ctx, filt["=ownerType"], filt["=ownerId"], "READ")
        rows = rows_of(db, _code(filt["=ownerType"]), int(filt["=ownerId"]))
        for key in ("id", "=id"):
            if str(filt.get(key) or "").isdigit():
                rows = [r for r in rows if r["ID"] == int(filt[key])]
        if isinstance(filt.get("@id"), list):
            want = {int(i) for i in filt["@id"] if str(i).isdigit()}
            rows = [r for r in rows if r["ID"] in want]
        for key in ("productId", "=productId"):
            if str(filt.get(key) or "").isdigit():
                rows = [r for r in rows if r["PRODUCT_ID"] == int(filt[key])]
        return {"productRows": [_out(r) for r in rows[:50]]}


@method("crm.item.productrow.get", scope="crm")
def productrow_get(ctx, params):
    db = ctx.portal.db
    with db.lock:
        row = db.product_rows.get(params.get("id"))
        if row is None:
            raise B24Fault("NOT_FOUND", "Product row was not found", 400)
        _owner(ctx, row["OWNER_TYPE"], row["OWNER_ID"], "READ")
        return {"productRow": _out(row)}


@method("crm.deal.productrows.get", scope="crm")
def deal_productrows_get(ctx, params):
    """The legacy shape (docs api-reference/crm/deals/products/crm-deal-product-rows-get.md): UPPER_CASE,
    a bare list, numbers as numbers."""
    db = ctx.portal.db
    with db.lock:
        row = db.deals.get(arg(params, "id"))
        if row is None:
            raise B24Fault("", "Not found", 400)
        if not perms.allows(ctx, DEAL, "READ", row):
            raise perms.legacy_denied()
        return [{"ID": str(r["ID"]), "OWNER_ID": str(r["OWNER_ID"]), "OWNER_TYPE": "D",
                 "PRODUCT_ID": r["PRODUCT_ID"], "PRODUCT_NAME": r["PRODUCT_NAME"], "PRICE": r["PRICE"],
                 "QUANTITY": r["QUANTITY"], "DISCOUNT_TYPE_ID": r["DISCOUNT_TYPE_ID"],
                 "DISCOUNT_RATE": r["DISCOUNT_RATE"], "DISCOUNT_SUM": r["DISCOUNT_SUM"], "TAX_RATE": r["TAX_RATE"],
                 "TAX_INCLUDED": r["TAX_INCLUDED"], "MEASURE_CODE": r["MEASURE_CODE"],
                 "MEASURE_NAME": r["MEASURE_NAME"], "SORT": r["SORT"]} for r in rows_of(db, "D", int(row["ID"]))]
