"""Variants of a calculation: lines from the catalog (price × coefficient × quantity) or at a fixed price,
grouped; totals, cost and margin in ``Decimal`` (money never passes through a float). Pure: the catalog
prices and default coefficients are handed in, so the same function serves a page, a robot and a test.

A line: ``{"product_id"?, "name"?, "group"?, "quantity", "coefficient"?, "fixed"?, "price"?, "cost"?}``.
Catalog line: unit price = catalog price × coefficient (default: the product's direction = its catalog
section, else 1), cost = catalog price × quantity. Fixed line: unit price as given, cost as given (else 0).
Amount = unit price × quantity, rounded half-up to kopecks; margin = total − cost.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_LINES, MAX_VARIANTS = 100, 10


class VariantError(ValueError):
    """What is wrong with a variant, in plain words (the caller wraps it in the person's language)."""


def dec(value, what: str, *, positive: bool = False, upto: Decimal | None = None) -> Decimal:
    if isinstance(value, bool) or value in (None, ""):
        raise VariantError(f"{what} is required")
    try:
        d = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise VariantError(f"{what} is not a number: {value!r}") from None
    if not d.is_finite() or d < 0 or (positive and d == 0):
        raise VariantError(f"{what} must be {'greater than 0' if positive else '0 or more'}")
    if upto is not None and d > upto:
        raise VariantError(f"{what} must be at most {upto}")
    return d


def money(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def build_line(raw, n: int, catalog: dict, coefficients: dict) -> dict:
    """One line → its stored form (strings for every number). ``catalog`` = {product id: {name, price,
    section_id}} of the products the variant names; ``coefficients`` = {section id: Decimal}."""
    if not isinstance(raw, dict):
        raise VariantError(f"line {n}: an object is expected")
    qty = dec(raw.get("quantity", 1), f"line {n}: quantity", positive=True, upto=Decimal(1000000))
    group = str(raw.get("group") or "").strip()[:100]
    fixed = bool(raw.get("fixed"))
    pid = raw.get("product_id")
    if pid not in (None, "", 0):
        try:
            pid = int(pid)
        except (TypeError, ValueError):
            raise VariantError(f"line {n}: product_id is not a number") from None
        product = catalog.get(pid)
        if product is None:
            raise VariantError(f"line {n}: product {pid} is not in the catalog")
        name = str(raw.get("name") or product["name"]).strip()[:255]
        base = money(Decimal(str(product["price"] or 0)))
        section = product.get("section_id")
    else:
        pid, section, base = None, None, None
        name = str(raw.get("name") or "").strip()[:255]
        if not name:
            raise VariantError(f"line {n}: a product from the catalog or a name is required")
        if not fixed:
            raise VariantError(f"line {n}: a line without a product needs a fixed price")
    if fixed:
        unit = money(dec(raw.get("price"), f"line {n}: price"))
        coefficient = None
        cost = money(dec(raw["cost"], f"line {n}: cost")) if raw.get("cost") not in (None, "") else \
            (money(base * qty) if base is not None else Decimal("0.00"))
    else:
        default = coefficients.get(section, Decimal(1)) if section is not None else Decimal(1)
        coefficient = dec(raw.get("coefficient", default) if raw.get("coefficient") not in (None, "") else default,
                          f"line {n}: coefficient", positive=True, upto=Decimal(100))
        unit = money(base * coefficient)
        cost = money(base * qty)
    amount = money(unit * qty)
    return {"n": n, "product_id": pid, "section_id": section, "name": name, "group": group, "fixed": fixed,
            "quantity": str(qty.normalize()) if qty == qty.to_integral() else str(qty),
            "base_price": None if base is None else str(base),
            "coefficient": None if coefficient is None else str(coefficient),
            "price": str(unit), "amount": str(amount), "cost": str(cost)}


def totals(lines: list[dict]) -> dict:
    total = sum((Decimal(x["amount"]) for x in lines), Decimal("0.00"))
    cost = sum((Decimal(x["cost"]) for x in lines), Decimal("0.00"))
    margin = total - cost
    pct = (margin / total * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if total else Decimal("0.0")
    groups: dict[str, Decimal] = {}
    for x in lines:
        groups[x["group"]] = groups.get(x["group"], Decimal("0.00")) + Decimal(x["amount"])
    return {"total": str(money(total)), "cost": str(money(cost)), "margin": str(money(margin)),
            "margin_pct": str(pct), "groups": {k: str(v) for k, v in groups.items()}}


def build_variant(raw, vid: str, catalog: dict, coefficients: dict) -> dict:
    if not isinstance(raw, dict):
        raise VariantError("an object {name, lines} is expected")
    name = str(raw.get("name") or "").strip()[:120]
    if not name:
        raise VariantError("a name is required")
    lines = raw.get("lines")
    if not isinstance(lines, list) or not lines:
        raise VariantError("at least one line is required")
    if len(lines) > MAX_LINES:
        raise VariantError(f"at most {MAX_LINES} lines")
    built = [build_line(x, i + 1, catalog, coefficients) for i, x in enumerate(lines)]
    return {"id": vid, "name": name, "lines": built, **totals(built)}


def product_ids(raw) -> set[int]:
    """The catalog products a raw variant names (to read just those from the portal)."""
    out = set()
    for x in (raw or {}).get("lines") or [] if isinstance(raw, dict) else []:
        if isinstance(x, dict) and str(x.get("product_id") or "").isdigit():
            out.add(int(x["product_id"]))
    return out


def apply_amounts(variant: dict, amounts: dict, pct: Decimal) -> tuple[list[dict], list[tuple[dict, Decimal]]]:
    """The chosen variant's lines with the manager's amounts (``{line n: amount}``); the lines whose new
    amount is outside ±pct of the computed one come back separately (they need the head's approval)."""
    out, beyond = [], []
    by_n = {str(x["n"]): x for x in variant["lines"]}
    for key in amounts:
        if str(key) not in by_n:
            raise VariantError(f"line {key} is not in the variant")
    for x in variant["lines"]:
        line = dict(x)
        if str(x["n"]) in {str(k) for k in amounts}:
            new = money(dec({str(k): v for k, v in amounts.items()}[str(x["n"])], f"line {x['n']}: amount"))
            base = Decimal(x["amount"])
            low, high = money(base * (1 - pct / 100)), money(base * (1 + pct / 100))
            if not low <= new <= high:
                beyond.append((line, new, low, high))
            qty = Decimal(x["quantity"])
            line.update(amount=str(new), price=str(money(new / qty)))
        out.append(line)
    return out, beyond
