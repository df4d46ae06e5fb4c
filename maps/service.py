"""What the map's edges share per portal: the current jobs (from the job cache in our database, so ten
dispatchers polling the same map cost the portal nothing, and a change costs one read), the per-portal settings
(working hours, the field team, home bases) and the travel model.

Settings live in ``store.kv`` under ``maps.settings`` (schema and validation: ``maps.settings``); every key
is optional. Working hours are the portal's ``hours`` overridden key by key by ``worker_hours[<user id>]``;
the time zone is the map's ``tz``, else the portal's time zone the visits pages use (``visits.tz``).
"""
from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from b24app.errors import SettingsError, said
from maps import jobcache, mapstate, orders
from maps.geo import OsrmTravelModel, TravelModel
from maps.schedule import Worker, WorkingHours
from maps.settings import validate

SETTINGS_KEY = "maps.settings"
PORTAL_TZ_KEY = "visits.tz"                    # the portal's time zone as the visits pages keep it
DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4, 5)         # window fitters work Saturdays


def jobs(services, member_id: str) -> tuple[int, list[orders.OrderJob]]:
    """(version, current jobs) from the map's job cache (maps/jobcache.py: kept current by the deal
    events, checked by a "changed since" read, fully re-read only on install, a manifest change or drift).
    The cache every map page shares is read with the app's own token; each person then gets only what
    their role and the portal let them see (own_jobs)."""
    data = jobcache.current(services, member_id)
    return mapstate.version(services.store.engine, member_id), data


def poll_version(services, member_id: str) -> int:
    """The map's version for ``?since=``, after the cache's upkeep (built, safety net when overdue), so a map
    that only ever asks "anything new?" still gets changes whose events were lost."""
    jobcache.maintain(services, member_id)
    return mapstate.version(services.store.engine, member_id)


def own_jobs(services, member_id: str, current: list[orders.OrderJob], user_id: int | None) -> list:
    """A field worker's map: the jobs he is the worker of, and of those only the deals the portal lets
    him read — asked with his own token (``services`` acts as him), a page of at most 50 ids per call."""
    mine = [j for j in current if user_id is not None and j.worker_id == int(user_id)]
    if not mine:
        return []
    client = services.client(member_id)
    readable: set[int] = set()
    ids = [j.id for j in mine]
    for i in range(0, len(ids), 50):
        rows = client.call("crm.deal.list", {"filter": {"@ID": ids[i:i + 50]}, "select": ["ID"], "start": -1})
        readable.update(int(r["ID"]) for r in rows or [])
    return [j for j in mine if j.id in readable]


def changed(services, member_id: str, deal_ids=()) -> int:
    """We changed something on the map ourselves: the deals we wrote are read into the cache now (one
    call), and the version moves so open maps redraw."""
    if deal_ids:
        jobcache.update_deals(services, member_id, deal_ids)
    return mapstate.bump(services.store.engine, member_id)


def settings(services, member_id: str) -> dict:
    conf = dict(services.store.kv.get(member_id, SETTINGS_KEY) or {})
    if not conf.get("tz"):
        portal_tz = services.store.kv.get(member_id, PORTAL_TZ_KEY)
        if portal_tz:
            conf["tz"] = str(portal_tz)
    return conf


def save_settings(services, member_id: str, doc, geocode=None) -> dict:
    """Validate the whole document (``maps.settings.SettingsError`` on the first bad value, nothing written)
    and store it; the cached jobs stay valid, but open maps redraw with the new hours.

    A worker's home base is typed as an address (``home_addresses``): a new or changed one is geocoded here
    with ``geocode(address) -> (lat, lon) | None`` (the portal's cached, rate-limited geocoder), and its point
    goes to ``homes``; an address the geocoder cannot find is refused with its path, nothing written."""
    clean = validate(doc)
    old = services.store.kv.get(member_id, SETTINGS_KEY) or {}
    homes = dict(clean.get("homes") or {})
    for uid, address in (clean.get("home_addresses") or {}).items():
        if not address:
            homes.pop(uid, None)
            continue
        if (old.get("home_addresses") or {}).get(uid) == address and uid in (old.get("homes") or {}):
            homes[uid] = old["homes"][uid]
            continue
        point = geocode(address) if geocode else None
        if point is None:
            raise SettingsError(said(f"address not found: {address}", f"адрес не найден: {address}"),
                                path=f"home_addresses.{uid}")
        homes[uid] = [round(point[0], 6), round(point[1], 6)]
    if clean.get("home_addresses") is not None:
        clean["home_addresses"] = {k: v for k, v in clean["home_addresses"].items() if v}
        clean["homes"] = homes
    services.store.kv.set(member_id, SETTINGS_KEY, clean)
    changed(services, member_id)
    return clean


def settings_view(services, member_id: str) -> dict:
    """What the settings page shows: the stored document and each configured worker's effective hours."""
    stored = services.store.kv.get(member_id, SETTINGS_KEY) or {}
    conf = settings(services, member_id)
    ids = sorted({int(x) for x in conf.get("workers") or []} | {int(k) for k in conf.get("worker_hours") or {}})
    people = set(ids) | {int(x) for team in (conf.get("teams") or {}).values() for x in team} \
        | {int(x) for x in conf.get("homes") or {}} | {int(x) for x in conf.get("home_addresses") or {}}
    names = orders.user_names(services.app_client(member_id), people) if people else {}
    return {"settings": stored, "tz": str(tz(conf)), "hours": hours_out(working_hours(conf)),
            "worker_hours": {str(i): hours_out(working_hours(conf, i)) for i in ids},
            "names": {str(k): v for k, v in names.items()}}


def hours_out(h: WorkingHours) -> dict:
    return {"start": h.start.strftime("%H:%M"), "end": h.end.strftime("%H:%M"),
            "breaks": [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in h.breaks],
            "weekdays": sorted(h.weekdays)}


def tz(conf: dict):
    return ZoneInfo(conf.get("tz") or "Europe/Moscow")


def _t(s: str) -> time:
    h, m = str(s).split(":")[:2]
    return time(int(h), int(m))


def working_hours(conf: dict, worker_id=None) -> WorkingHours:
    """The portal's hours, or one worker's: ``worker_hours[<id>]`` replaces the portal's keys it names."""
    h = dict(conf.get("hours") or {})
    if worker_id is not None:
        h.update((conf.get("worker_hours") or {}).get(str(worker_id)) or {})
    return WorkingHours(start=_t(h.get("start", "09:00")), end=_t(h.get("end", "18:00")),
                        breaks=tuple((_t(a), _t(b)) for a, b in h.get("breaks", [])),
                        weekdays=frozenset(h.get("weekdays", DEFAULT_WEEKDAYS)), tz=tz(conf))


def team(services, member_id: str, current: list[orders.OrderJob]) -> list[Worker]:
    """The field team: the configured user ids, else everyone in the departments of the people who hold
    jobs now (the "Выездная служба" of the seed), else those people themselves."""
    conf = settings(services, member_id)
    client = services.client(member_id)
    ids = [int(x) for x in conf.get("workers") or []]
    if ids:
        rows = orders.users(client, {"ID": ids})
    else:
        holders = sorted({j.worker_id for j in current if j.worker_id})
        rows = orders.users(client, {"ID": holders}) if holders else []
        deps = sorted({int(d) for u in rows for d in u.get("UF_DEPARTMENT") or []})
        if deps:
            rows = orders.users(client, {"UF_DEPARTMENT": deps, "ACTIVE": True})
    homes = conf.get("homes") or {}
    out = []
    for u in sorted(rows, key=lambda u: int(u["ID"])):
        home = homes.get(str(u["ID"]))
        out.append(Worker(str(u["ID"]), u["name"], working_hours(conf, u["ID"]), tuple(home) if home else None, None))
    return out


def for_pipeline(conf: dict, pipeline: str, workers: list[Worker], current: list[orders.OrderJob]) -> list[Worker]:
    """Who is offered for a job of this pipeline: the configured ``teams[pipeline]``, else whoever does
    this pipeline's jobs now (measurers measure, fitters fit), else the whole team."""
    ids = {str(x) for x in (conf.get("teams") or {}).get(pipeline) or []}
    if not ids:
        ids = {str(j.worker_id) for j in current if j.worker_id and j.pipeline == pipeline}
    picked = [w for w in workers if w.id in ids]
    return picked or workers


def travel(settings):
    """Travel times: the deployment's OSRM router (``settings.osrm_url``), else straight line × road factor."""
    return OsrmTravelModel(settings.osrm_url) if settings.osrm_url else TravelModel()
