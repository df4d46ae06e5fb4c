"""The portal's product catalog as the engineer picks from it: catalog sections are the "directions"
(e.g. "New buildings"), products carry the base price. Read through the legacy CRM catalog methods
(crm.productsection.list, crm.product.list: one call answers name + price + section; catalog.product.list
would need catalog.price.list beside it)."""
from __future__ import annotations

from decimal import Decimal


def directions(client) -> list[dict]:
    rows = client.list_all("crm.productsection.list", {"select": ["ID", "NAME", "SECTION_ID"]}, id_key="ID")
    out = [{"id": int(r["ID"]), "name": r["NAME"],
            "parent_id": int(r["SECTION_ID"]) if r.get("SECTION_ID") else None} for r in rows]
    return sorted(out, key=lambda d: (d["name"].casefold(), d["id"]))


def _product(r: dict) -> dict:
    return {"id": int(r["ID"]), "name": r["NAME"], "price": str(Decimal(str(r.get("PRICE") or 0))),
            "currency": r.get("CURRENCY_ID") or "RUB",
            "section_id": int(r["SECTION_ID"]) if r.get("SECTION_ID") else None}


def products(client, section_id: int | None = None) -> list[dict]:
    filt = {"ACTIVE": "Y"}
    if section_id is not None:
        filt["SECTION_ID"] = int(section_id)
    rows = client.list_all("crm.product.list", {"filter": filt,
                                                "select": ["ID", "NAME", "PRICE", "CURRENCY_ID", "SECTION_ID"]},
                           id_key="ID")
    return sorted(map(_product, rows), key=lambda p: (p["name"].casefold(), p["id"]))


def by_ids(client, ids) -> dict[int, dict]:
    """{id: product} for the products a variant names (one list call, filtered by id)."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {}
    rows = client.list_all("crm.product.list", {"filter": {"ID": ids},
                                                "select": ["ID", "NAME", "PRICE", "CURRENCY_ID", "SECTION_ID"]},
                           id_key="ID")
    return {p["id"]: p for p in map(_product, rows)}
