"""The ``maps.settings`` document (``store.kv``): what an administrator may set and how it is checked.

Every key is optional; an unknown key or a malformed value is refused as a whole (the PUT endpoint answers
400 with the path of the first bad value and writes nothing), so a half-valid document never reaches the
dispatcher's pages. Shape::

    {"tz": "Europe/Moscow",
     "hours": {"start": "09:00", "end": "18:00", "breaks": [["13:00", "14:00"]], "weekdays": [0, 1, 2, 3, 4, 5]},
     "worker_hours": {"4": {"start": "08:00", "end": "17:00", "weekdays": [0, 1, 2, 3]}},
     "workers": [4, 5, 6], "teams": {"measurements": [4, 5]}, "homes": {"4": [55.75, 37.61]},
     "home_addresses": {"4": "Москва, Тверская 1"}, "fixed_slack_min": 0, "handoff": {"when": "ready"}}

``handoff.when``: when a production deal becomes an installation deal to plan (maps/handoff.py) — at its
done stage (``ready``, the default), once paid in full (``paid``), or never (``off``). ``home_addresses``:
what the administrator typed for a worker's home base; ``homes`` holds its geocoded point.

``worker_hours[<user id>]`` overrides the portal's ``hours`` key by key (a worker who only starts earlier
gives just ``start``; ``breaks: []`` means no lunch for that worker).
"""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from b24app.errors import SettingsError, said

KEYS = {"tz", "hours", "worker_hours", "workers", "teams", "homes", "home_addresses", "fixed_slack_min", "handoff"}
HANDOFF_WHEN = ("ready", "paid", "off")
HOURS_KEYS = {"start", "end", "breaks", "weekdays"}
PIPELINES = {"measurements", "production", "installation"}
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _minutes(path: str, v) -> int:
    m = _HHMM.match(str(v)) if isinstance(v, str) else None
    if m is None:
        raise SettingsError(said(f"time HH:MM expected, got {v!r}", f"нужно время ЧЧ:ММ, а не {v!r}"), path=path)
    return int(m.group(1)) * 60 + int(m.group(2))


def _user_id(path: str, v) -> str:
    s = str(v)
    if isinstance(v, bool) or not s.isdigit() or int(s) <= 0:
        raise SettingsError(said(f"a user id (positive integer) expected, got {v!r}",
                                 f"нужен id пользователя (целое больше нуля), а не {v!r}"), path=path)
    return str(int(s))


def _user_ids(path: str, v) -> list[int]:
    if not isinstance(v, list):
        raise SettingsError(said("a list of user ids expected", "нужен список id пользователей"), path=path)
    return [int(_user_id(f"{path}.{i}", x)) for i, x in enumerate(v)]


def check_hours(path: str, h) -> dict:
    """Validate one hours block; any subset of keys (missing ones come from the defaults or the portal)."""
    if not isinstance(h, dict):
        raise SettingsError(said("an object {start, end, breaks, weekdays} expected",
                                 "нужен объект {start, end, breaks, weekdays}"), path=path)
    extra = set(h) - HOURS_KEYS
    if extra:
        raise SettingsError(said(f"unknown key (allowed: {', '.join(sorted(HOURS_KEYS))})",
                                 f"неизвестный ключ (можно: {', '.join(sorted(HOURS_KEYS))})"),
                            path=f"{path}.{sorted(extra)[0]}")
    out: dict = {}
    for k in ("start", "end"):
        if k in h:
            _minutes(f"{path}.{k}", h[k])
            out[k] = h[k]
    if "start" in out and "end" in out and _minutes(path, out["start"]) >= _minutes(path, out["end"]):
        raise SettingsError(said(f"the day must end after it starts ({out['start']}–{out['end']})",
                                 f"день должен заканчиваться позже, чем начинается ({out['start']}–{out['end']})"),
                            path=f"{path}.end")
    if "breaks" in h:
        if not isinstance(h["breaks"], list):
            raise SettingsError(said("a list of [\"HH:MM\", \"HH:MM\"] pairs expected",
                                     "нужен список пар [\"ЧЧ:ММ\", \"ЧЧ:ММ\"]"), path=f"{path}.breaks")
        for i, b in enumerate(h["breaks"]):
            if not (isinstance(b, (list, tuple)) and len(b) == 2):
                raise SettingsError(said("a pair [\"HH:MM\", \"HH:MM\"] expected",
                                         "нужна пара [\"ЧЧ:ММ\", \"ЧЧ:ММ\"]"), path=f"{path}.breaks.{i}")
            if _minutes(f"{path}.breaks.{i}", b[0]) >= _minutes(f"{path}.breaks.{i}", b[1]):
                raise SettingsError(said(f"a break must end after it starts ({b[0]}–{b[1]})",
                                         f"перерыв должен заканчиваться позже, чем начинается ({b[0]}–{b[1]})"),
                                    path=f"{path}.breaks.{i}")
        out["breaks"] = [list(b) for b in h["breaks"]]
    if "weekdays" in h:
        w = h["weekdays"]
        if not isinstance(w, list) or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in w):
            raise SettingsError(said("a list of weekday numbers 0 (Monday) … 6 (Sunday) expected",
                                     "нужен список дней недели: 0 (понедельник) … 6 (воскресенье)"),
                                path=f"{path}.weekdays")
        out["weekdays"] = sorted(set(w))
    return out


def validate(doc) -> dict:
    """The document as it will be stored, or SettingsError."""
    if not isinstance(doc, dict):
        raise SettingsError(said("a JSON object expected", "нужен JSON-объект"), path="$")
    extra = set(doc) - KEYS
    if extra:
        raise SettingsError(said(f"unknown key (allowed: {', '.join(sorted(KEYS))})",
                                 f"неизвестный ключ (можно: {', '.join(sorted(KEYS))})"), path=sorted(extra)[0])
    out: dict = {}
    if "tz" in doc:
        try:
            ZoneInfo(str(doc["tz"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(said(f"unknown time zone {doc['tz']!r} (IANA name like Europe/Moscow expected)",
                                     f"неизвестный часовой пояс {doc['tz']!r} "
                                     "(нужно имя IANA, например Europe/Moscow)"),
                                path="tz") \
                from None
        out["tz"] = str(doc["tz"])
    if "hours" in doc:
        out["hours"] = check_hours("hours", doc["hours"])
    if "worker_hours" in doc:
        wh = doc["worker_hours"]
        if not isinstance(wh, dict):
            raise SettingsError(said("an object {user id: hours} expected",
                                     "нужен объект {id пользователя: часы}"), path="worker_hours")
        out["worker_hours"] = {_user_id(f"worker_hours.{k}", k): check_hours(f"worker_hours.{k}", v)
                               for k, v in wh.items()}
    if "workers" in doc:
        out["workers"] = _user_ids("workers", doc["workers"])
    if "teams" in doc:
        t = doc["teams"]
        if not isinstance(t, dict):
            raise SettingsError(said("an object {pipeline: [user ids]} expected",
                                     "нужен объект {воронка: [id пользователей]}"), path="teams")
        for k in t:
            if k not in PIPELINES:
                raise SettingsError(said(f"unknown pipeline (one of {', '.join(sorted(PIPELINES))})",
                                         f"неизвестная воронка (одна из {', '.join(sorted(PIPELINES))})"),
                                    path=f"teams.{k}")
        out["teams"] = {k: _user_ids(f"teams.{k}", v) for k, v in t.items()}
    if "homes" in doc:
        hm = doc["homes"]
        if not isinstance(hm, dict):
            raise SettingsError(said("an object {user id: [lat, lon]} expected",
                                     "нужен объект {id пользователя: [широта, долгота]}"), path="homes")
        homes = {}
        for k, v in hm.items():
            uid = _user_id(f"homes.{k}", k)
            try:
                lat, lon = (float(x) for x in v)
            except (TypeError, ValueError):
                raise SettingsError(said("[lat, lon] expected", "нужны [широта, долгота]"), path=f"homes.{k}") from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise SettingsError(said(f"coordinates out of range ({lat}, {lon})",
                                         f"координаты вне допустимых пределов ({lat}, {lon})"), path=f"homes.{k}")
            homes[uid] = [lat, lon]
        out["homes"] = homes
    if "home_addresses" in doc:
        ha = doc["home_addresses"]
        if not isinstance(ha, dict) or any(not isinstance(v, str) or len(v) > 500 for v in ha.values()):
            raise SettingsError(said("an object {user id: address} expected",
                                     "нужен объект {id пользователя: адрес}"), path="home_addresses")
        out["home_addresses"] = {_user_id(f"home_addresses.{k}", k): v.strip() for k, v in ha.items()}
    if "handoff" in doc:
        h = doc["handoff"]
        if not isinstance(h, dict) or set(h) - {"when"} or h.get("when", "ready") not in HANDOFF_WHEN:
            raise SettingsError(said(f"{{\"when\": one of {', '.join(HANDOFF_WHEN)}}} expected",
                                     f"нужно {{\"when\": одно из {', '.join(HANDOFF_WHEN)}}}"), path="handoff.when")
        out["handoff"] = {"when": h.get("when", "ready")}
    if "fixed_slack_min" in doc:
        v = doc["fixed_slack_min"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 240:
            raise SettingsError(said("minutes 0 … 240 expected", "нужно число минут 0 … 240"), path="fixed_slack_min")
        out["fixed_slack_min"] = v
    return out
