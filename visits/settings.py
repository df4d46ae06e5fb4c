"""Per-portal settings of the visit pages that an administrator chooses: which company fields the company
map's popup shows (picked from the portal's own ``crm.company.fields``, user fields included) and the
"visited" period that colours the markers, the kanban rules' N (``repeat_days``) and M (``overdue_days``),
and each manager's day-route start point (home or office). Stored in store.kv; the popup's labels (and enumeration
values) are kept with the choice, so drawing the map costs no extra ``crm.company.fields`` call.
"""
from __future__ import annotations

import re
from datetime import date

from b24app.errors import SettingsError, said

from . import rules
from .read import user_names

KV_POPUP_FIELDS = "visits.popup_fields"          # [{"code", "label", "items": {id: value}?}]
KV_ROUTE_STARTS = "visits.route_starts"          # {"<user id>": [lat, lon]}: where a manager's day route starts
KV_START_ADDRESSES = "visits.route_start_addresses"   # {"<user id>": "address"}: what the administrator typed
DEFAULT_POPUP_FIELDS = ("ADDRESS", "PHONE")
MAX_POPUP_FIELDS = 8
NOT_SHOWN_TYPES = {"file"}                      # a file id means nothing in a popup
PERIODS = ("month", "quarter", "year")
MAX_PERIOD_DAYS = 3660
DAY_LIMITS = {"repeat_days": (rules.KV_REPEAT_DAYS, 0, 365), "overdue_days": (rules.KV_OVERDUE_DAYS, 1, 365),
              "work_days": (rules.KV_WORK_DAYS, 0, 365)}
KEYS = {"popup_fields", "visited_period", "route_starts", *DAY_LIMITS}


def check_period(value) -> str:
    """``month`` | ``quarter`` | ``year`` | ``<n>d`` (1…3660) | ``YYYY-MM`` — anything else is refused."""
    p = str(value or "").strip()
    if p in PERIODS:
        return p
    if p.endswith("d") and p[:-1].isdigit() and 1 <= int(p[:-1]) <= MAX_PERIOD_DAYS:
        return str(int(p[:-1])) + "d"
    if len(p) == 7 and p[4] == "-" and p[:4].isdigit() and p[5:].isdigit():
        try:
            date(int(p[:4]), int(p[5:]), 1)
            return p
        except ValueError:
            pass
    raise SettingsError(said(f"period {p!r} is not one of month, quarter, year, <n>d (1–{MAX_PERIOD_DAYS}) or YYYY-MM",
                             f"период {p!r}: нужен month, quarter, year, <n>d (1–{MAX_PERIOD_DAYS}) или ГГГГ-ММ"))


def check_days(name: str, value) -> int:
    """``repeat_days`` 0…365 (0: on the visit day), ``overdue_days`` 1…365; whole numbers only."""
    _key, lo, hi = DAY_LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise SettingsError(said(f"{name} must be a whole number of days {lo}–{hi}, got {value!r}",
                                 f"{name}: нужно целое число дней {lo}–{hi}, а не {value!r}"))
    n = int(str(value).strip())
    if not lo <= n <= hi:
        raise SettingsError(said(f"{name} must be a whole number of days {lo}–{hi}, got {n}",
                                 f"{name}: нужно целое число дней {lo}–{hi}, а не {n}"))
    return n


def visited_period(kv, member_id: str) -> str:
    raw = kv.get(member_id, rules.KV_VISITED_PERIOD)
    try:
        return check_period(raw) if raw else "month"
    except SettingsError:
        return "month"


def route_starts(kv, member_id: str) -> dict[str, list[float]]:
    stored = kv.get(member_id, KV_ROUTE_STARTS)
    return {str(k): [float(v[0]), float(v[1])] for k, v in stored.items()} if isinstance(stored, dict) else {}


def route_start(kv, member_id: str, user_id) -> tuple[float, float] | None:
    p = route_starts(kv, member_id).get(str(user_id))
    return (p[0], p[1]) if p else None


def check_route_starts(value, current: dict, geocode=None, addresses: dict | None = None) -> dict:
    """``{user id: [lat, lon] | "lat,lon" | "an address" | null}`` merged into ``current`` (null removes a
    start). An address is geocoded with ``geocode(address) -> (lat, lon) | None`` (the portal's cached
    geocoder) and kept in ``addresses``; one the geocoder cannot find is refused, nothing written."""
    if not isinstance(value, dict):
        raise SettingsError(said('route_starts must be an object {"<user id>": [lat, lon] or null}',
                                 'route_starts: нужен объект {"<id пользователя>": [широта, долгота] или null}'))
    out = dict(current)
    for k, v in value.items():
        if not str(k).isdigit() or int(k) <= 0:
            raise SettingsError(said(f"route_starts: {k!r} is not a user id",
                                     f"route_starts: {k!r} — не id пользователя"))
        if v is None:
            out.pop(str(int(k)), None)
            if addresses is not None:
                addresses.pop(str(int(k)), None)
            continue
        if isinstance(v, str) and _ADDRESS.search(v):         # letters: an address, not "lat,lon"
            point = geocode(v.strip()) if (geocode and v.strip()) else None
            if point is None:
                raise SettingsError(said(f"route_starts.{k}: address not found: {v}",
                                         f"route_starts.{k}: адрес не найден: {v}"))
            out[str(int(k))] = [round(point[0], 6), round(point[1], 6)]
            if addresses is not None:
                addresses[str(int(k))] = v.strip()[:500]
            continue
        if addresses is not None:
            addresses.pop(str(int(k)), None)
        parts = v.split(",") if isinstance(v, str) else v
        try:
            lat, lon = float(parts[0]), float(parts[1])
            if len(parts) != 2:
                raise ValueError
        except (TypeError, ValueError, IndexError, KeyError):
            raise SettingsError(said(f"route_starts.{k}: [lat, lon] expected, got {v!r}",
                                     f"route_starts.{k}: нужны [широта, долгота], а не {v!r}")) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise SettingsError(said(f"route_starts.{k}: {lat}, {lon} is outside lat −90…90, lon −180…180",
                                     f"route_starts.{k}: {lat}, {lon} вне пределов: широта −90…90, долгота −180…180"))
        out[str(int(k))] = [lat, lon]
    return out


_ADDRESS = re.compile(r"[^\d\s.,+\-]")


def company_fields(client) -> list[dict]:
    """The portal's company fields a popup can show: code, label (user fields by their form label)."""
    out = []
    for code, d in (client.call("crm.company.fields") or {}).items():
        if d.get("type") in NOT_SHOWN_TYPES or code == "ID":
            continue
        label = d.get("formLabel") or d.get("listLabel") or d.get("title") or code
        entry = {"code": code, "label": str(label), "type": d.get("type")}
        if d.get("items"):
            entry["items"] = {str(i["ID"]): str(i["VALUE"]) for i in d["items"]}
        out.append(entry)
    return out


def popup_fields(kv, member_id: str) -> list[dict]:
    stored = kv.get(member_id, KV_POPUP_FIELDS)
    if isinstance(stored, list):
        return [f for f in stored if isinstance(f, dict) and f.get("code")]
    return [{"code": c, "label": c} for c in DEFAULT_POPUP_FIELDS]


def current(services, member_id: str) -> dict:
    kv = services.store.kv
    cfg = rules.settings_of(kv, member_id)
    return {"popup_fields": popup_fields(kv, member_id), "visited_period": visited_period(kv, member_id),
            "repeat_days": cfg.repeat_days, "overdue_days": cfg.overdue_days, "work_days": cfg.work_days,
            "route_starts": route_starts(kv, member_id),
            "route_start_addresses": kv.get(member_id, KV_START_ADDRESSES) or {},
            "route_start_names": _names(services, member_id, route_starts(kv, member_id)),
            "company_fields": company_fields(services.client(member_id))}


def _names(services, member_id: str, starts: dict) -> dict[str, str]:
    """The people with a start point, by name (the settings page shows names, never ids)."""
    if not starts:
        return {}
    return {str(k): v for k, v in user_names(services.client(member_id), [int(x) for x in starts]).items()}


def save(services, member_id: str, body: dict, geocode=None) -> dict:
    """Validate everything first, then write: a bad value leaves every setting as it was."""
    if not isinstance(body, dict) or not (KEYS & set(body)):
        raise SettingsError(said("send popup_fields (a list of company field codes), visited_period, repeat_days, "
                                 "overdue_days and/or route_starts",
                                 "передайте popup_fields (список кодов полей компании), visited_period, repeat_days, "
                                 "overdue_days и/или route_starts"))
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise SettingsError(said(f"unknown setting(s): {', '.join(unknown)} (allowed: {', '.join(sorted(KEYS))})",
                                 f"неизвестные настройки: {', '.join(unknown)} (можно: {', '.join(sorted(KEYS))})"))
    kv = services.store.kv
    writes = {}
    for name, (key, _lo, _hi) in DAY_LIMITS.items():
        if name in body:
            # the draft rule may be switched off (null): drafts then wait for a person
            off = name == "work_days" and body[name] in (None, "off")
            writes[key] = rules.OFF if off else check_days(name, body[name])
    if "route_starts" in body:
        addresses = dict(kv.get(member_id, KV_START_ADDRESSES) or {})
        writes[KV_ROUTE_STARTS] = check_route_starts(body["route_starts"], route_starts(kv, member_id), geocode,
                                                     addresses)
        writes[KV_START_ADDRESSES] = addresses
    if "visited_period" in body:
        writes[rules.KV_VISITED_PERIOD] = check_period(body["visited_period"])
    if "popup_fields" in body:
        codes = body["popup_fields"]
        if not isinstance(codes, list) or not all(isinstance(c, str) and c.strip() for c in codes):
            raise SettingsError(said('popup_fields must be a list of company field codes, e.g. ["ADDRESS", "PHONE"]',
                                     'popup_fields: нужен список кодов полей компании, например ["ADDRESS", "PHONE"]'))
        codes = list(dict.fromkeys(c.strip() for c in codes))
        if len(codes) > MAX_POPUP_FIELDS:
            raise SettingsError(said(f"a popup shows at most {MAX_POPUP_FIELDS} fields, got {len(codes)}",
                                     f"в карточке на карте не больше {MAX_POPUP_FIELDS} полей, а выбрано {len(codes)}"))
        known = {f["code"]: f for f in company_fields(services.client(member_id))}
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise SettingsError(said("not company fields of this portal: " + ", ".join(unknown),
                                     "это не поля компании на этом портале: " + ", ".join(unknown)))
        writes[KV_POPUP_FIELDS] = [{k: v for k, v in known[c].items() if k != "type"} for c in codes]
    for key, value in writes.items():
        kv.set(member_id, key, value)
    return current(services, member_id)


def display(value, field: dict) -> str:
    """A company field's value as popup text: multifields (PHONE, EMAIL) by their VALUEs, lists joined,
    enumeration ids by their labels."""
    items = field.get("items") or {}
    if isinstance(value, list):
        parts = [display(v, field) for v in value]
        return ", ".join(p for p in parts if p)
    if isinstance(value, dict):
        return str(value.get("VALUE") or "")
    if value in (None, False):
        return ""
    return items.get(str(value), str(value))
