"""The flow's settings document (kv ``calcwork.settings``), set by an administrator:

    {"tolerance_pct": "10",                 # the manager may change a line's amount by ±10 % on his own
     "coefficients": {"<section id>": "1.3"},   # default coefficient per direction (catalog section)
     "default_target": {"kind": "queue"},   # who calculates when a request names nobody (robot, button)
     "proposal_template_id": null,          # the portal's document generator template for the proposal
     "act_template_id": null,               # ... and for the act (null: the app's own XLSX)
     "work_after_payment": false,           # order work only for a deal 1C shows paid in full (sync_1c gate)
     "remind_after_hours": "4"}             # SLA: remind when a request waits this long (0 = never)

Validated whole before anything is written (SettingsError with the path of the bad value)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from b24app.errors import SettingsError, said

KV_KEY = "calcwork.settings"
DEFAULTS = {"tolerance_pct": "10", "coefficients": {}, "default_target": {"kind": "queue"},
            "proposal_template_id": None, "act_template_id": None, "work_after_payment": False,
            "remind_after_hours": "4"}
KINDS = ("user", "department", "queue")


def _dec(value, path: str, low: Decimal, high: Decimal) -> str:
    try:
        d = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise SettingsError(said("a number is expected", "нужно число"), path=path) from None
    if not d.is_finite() or not low <= d <= high:
        raise SettingsError(said(f"must be between {low} and {high}", f"должно быть от {low} до {high}"), path=path)
    return str(d)


def target(value, path: str = "default_target") -> dict:
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        raise SettingsError(said("{kind: user|department|queue, id} is expected",
                                 "нужен объект {kind: user|department|queue, id}"), path=path)
    if value["kind"] == "queue":
        return {"kind": "queue"}
    if not str(value.get("id") or "").isdigit() or int(value["id"]) <= 0:
        raise SettingsError(said(f"the {value['kind']}'s id is expected", "нужен id"), path=f"{path}.id")
    return {"kind": value["kind"], "id": int(value["id"])}


def validate(doc) -> dict:
    if not isinstance(doc, dict):
        raise SettingsError(said("a JSON object is expected", "нужен JSON-объект"), path="$")
    extra = set(doc) - set(DEFAULTS)
    if extra:
        raise SettingsError(said("unknown key", "неизвестный ключ"), path=sorted(extra)[0])
    out = {"tolerance_pct": _dec(doc.get("tolerance_pct", DEFAULTS["tolerance_pct"]), "tolerance_pct",
                                 Decimal(0), Decimal(100))}
    coeffs = doc.get("coefficients") or {}
    if not isinstance(coeffs, dict):
        raise SettingsError(said("{section id: coefficient} is expected", "нужен объект {id раздела: коэффициент}"),
                            path="coefficients")
    out["coefficients"] = {}
    for k, v in coeffs.items():
        if not str(k).isdigit():
            raise SettingsError(said("a catalog section id is expected", "нужен id раздела каталога"),
                                path=f"coefficients.{k}")
        out["coefficients"][str(int(k))] = _dec(v, f"coefficients.{k}", Decimal("0.01"), Decimal(100))
    out["default_target"] = target(doc.get("default_target", DEFAULTS["default_target"]))
    for key in ("proposal_template_id", "act_template_id"):
        v = doc.get(key)
        if v in (None, "", 0):
            out[key] = None
        elif str(v).isdigit():
            out[key] = int(v)
        else:
            raise SettingsError(said("a document template id is expected", "нужен id шаблона документа"), path=key)
    flag = doc.get("work_after_payment", False)
    if not isinstance(flag, bool):
        raise SettingsError(said("true or false is expected", "нужно true или false"), path="work_after_payment")
    out["work_after_payment"] = flag
    out["remind_after_hours"] = _dec(doc.get("remind_after_hours", DEFAULTS["remind_after_hours"]),
                                     "remind_after_hours", Decimal(0), Decimal(24 * 30))
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
