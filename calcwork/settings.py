"""The flow's settings document (kv ``calcwork.settings``), set by an administrator:

    {"tolerance_pct": "10",                 # the manager may change a line's amount by ±10 % on his own
     "coefficients": {"<section id>": "1.3"},   # default coefficient per direction (catalog section)
     "default_target": {"kind": "queue"}}   # who calculates when a request names nobody (robot, button)

Validated whole before anything is written (SettingsError with the path of the bad value)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from b24app.errors import SettingsError

KV_KEY = "calcwork.settings"
DEFAULTS = {"tolerance_pct": "10", "coefficients": {}, "default_target": {"kind": "queue"}}
KINDS = ("user", "department", "queue")


def _dec(value, path: str, low: Decimal, high: Decimal) -> str:
    try:
        d = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise SettingsError(f"{path}: a number is expected", path=path) from None
    if not d.is_finite() or not low <= d <= high:
        raise SettingsError(f"{path}: must be between {low} and {high}", path=path)
    return str(d)


def target(value, path: str = "default_target") -> dict:
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        raise SettingsError(f"{path}: {{kind: user|department|queue, id}} is expected", path=path)
    if value["kind"] == "queue":
        return {"kind": "queue"}
    if not str(value.get("id") or "").isdigit() or int(value["id"]) <= 0:
        raise SettingsError(f"{path}.id: the {value['kind']}'s id is expected", path=f"{path}.id")
    return {"kind": value["kind"], "id": int(value["id"])}


def validate(doc) -> dict:
    if not isinstance(doc, dict):
        raise SettingsError("a JSON object is expected", path="$")
    extra = set(doc) - set(DEFAULTS)
    if extra:
        raise SettingsError(f"unknown key {sorted(extra)[0]!r}", path=sorted(extra)[0])
    out = {"tolerance_pct": _dec(doc.get("tolerance_pct", DEFAULTS["tolerance_pct"]), "tolerance_pct",
                                 Decimal(0), Decimal(100))}
    coeffs = doc.get("coefficients") or {}
    if not isinstance(coeffs, dict):
        raise SettingsError("coefficients: {section id: coefficient} is expected", path="coefficients")
    out["coefficients"] = {}
    for k, v in coeffs.items():
        if not str(k).isdigit():
            raise SettingsError(f"coefficients.{k}: a catalog section id is expected", path=f"coefficients.{k}")
        out["coefficients"][str(int(k))] = _dec(v, f"coefficients.{k}", Decimal("0.01"), Decimal(100))
    out["default_target"] = target(doc.get("default_target", DEFAULTS["default_target"]))
    return out


def load(kv, member_id: str) -> dict:
    doc = kv.get(member_id, KV_KEY) or {}
    return {**DEFAULTS, **doc}


def save(kv, member_id: str, doc) -> dict:
    clean = validate(doc)
    kv.set(member_id, KV_KEY, clean)
    return clean


def coefficients(doc: dict) -> dict[int, Decimal]:
    return {int(k): Decimal(v) for k, v in (doc.get("coefficients") or {}).items()}
