"""Background geocoding: when a deal or a company is added or changed, its address is geocoded once
(through the shared cache and the deployment-wide Nominatim rate limiter, a row in our database) and the
coordinates field is written back only if the value actually changed — our own update fires ONCRMDEALUPDATE
again, and that second run must end without a write, or the portal and we would ping-pong forever.

Rendering a map never calls the geocoder: the map reads the coordinates field, and addresses that could
not be placed are listed (``failed_records``) for the dispatcher to fix or pin by hand.
"""
from __future__ import annotations

import logging
import threading

from geopy.geocoders import Nominatim

from b24app.errors import B24Error
from install.registry import NotInstalled, installed_ids
from maps import handoff, jobcache
from maps.geo import format_point, parse_point
from maps.geocache_sql import SqlGeoCache, SqlRateLimiter, record_state, save_record
from maps.geocode import Geocoder, GeoResult, normalise_address
from maps.orders import PIPELINES

log = logging.getLogger("b24app.maps.geocoding")

# Tests and self-hosted deployments swap these: a provider with geopy's geocode(), and the limiter.
PROVIDER_FACTORY = None          # () -> geopy-like geocoder; None = Nominatim (B24APP_NOMINATIM_URL)
LIMITER = None                   # None = SqlRateLimiter on the store: 1 request/s for every process together


_PROVIDERS = threading.local()


def provider(settings):
    """The geocoder of the deployment: Nominatim at ``settings.nominatim_url`` with its user agent.

    One per thread and address: building it loads the TLS trust store (≈4 ms), and a refresh of 200 deals
    asked for one per deal (a 200-deal burst spent most of its time here)."""
    if PROVIDER_FACTORY is not None:
        return PROVIDER_FACTORY()
    key = (settings.nominatim_url, settings.geocoder_user_agent)
    made = getattr(_PROVIDERS, "by_key", None)
    if made is None:
        made = _PROVIDERS.by_key = {}
    if key not in made:
        scheme, _, domain = settings.nominatim_url.partition("://")
        made[key] = Nominatim(user_agent=settings.geocoder_user_agent, domain=domain.rstrip("/"), scheme=scheme,
                              timeout=10)
    return made[key]


def limiter_for(services):
    if LIMITER is not None:
        return LIMITER
    return SqlRateLimiter(services.store.engine, "nominatim", services.settings.geocoder_min_interval)


def geocoder_for(services, member_id: str) -> Geocoder:
    return Geocoder(SqlGeoCache(services.store.engine, member_id), provider(services.settings),
                    limiter=limiter_for(services), geocode_kwargs={"language": "ru"})


def point_of(services, member_id: str):
    """``address -> (lat, lon) | None`` with the portal's cached, rate-limited geocoder (a home base typed
    on the settings page)."""
    geocoder = geocoder_for(services, member_id)
    return lambda address: geocoder.lookup(address).point


def company_address(company: dict) -> str:
    addr = str(company.get("ADDRESS") or "").strip()
    city = str(company.get("ADDRESS_CITY") or "").strip()
    if city and city.lower() not in addr.lower():
        addr = f"{city}, {addr}" if addr else city
    return addr


def record_address(client, ids, entity: str, row: dict) -> str:
    """The address a deal/company is placed by: a deal's job address, else its company's address."""
    if entity != "deal":
        return company_address(row)
    address = str(row.get(ids.deal_field("job_address")) or "").strip()
    if not address and row.get("COMPANY_ID") and str(row["COMPANY_ID"]) != "0":
        address = company_address(client.call("crm.company.get", {"id": int(row["COMPANY_ID"])}))
    return address


def geocode_record(services, member_id: str, entity: str, entity_id: int) -> GeoResult | None:
    """Geocode one deal/company and write its coordinates field if they changed; returns what was found."""
    try:
        ids = installed_ids(services.store, member_id)
    except NotInstalled:
        return None
    client = services.client(member_id)
    try:
        row = client.call(f"crm.{entity}.get", {"id": int(entity_id)})
    except B24Error as exc:
        if exc.status and exc.status < 500 and exc.code != "TRANSPORT_ERROR":
            return None          # deleted meanwhile or not visible: nothing to geocode
        raise
    return geocode_row(services, member_id, ids, entity, entity_id, row)


def geocode_row(services, member_id: str, ids, entity: str, entity_id: int, row: dict) -> GeoResult | None:
    """``geocode_record`` on a row already read (the map's refresh reads deals in batches for both)."""
    store = services.store
    coord_field = ids.deal_field("coordinates") if entity == "deal" else ids.company_field("coordinates")
    client = services.client(member_id)
    if entity == "deal" and ids.pipeline_of_category(int(row.get("CATEGORY_ID") or 0)) is None:
        return None              # not one of our pipelines: spend no Nominatim quota on it
    address = record_address(client, ids, entity, row)
    if not address:
        return None
    current = parse_point(row.get(coord_field))
    key = normalise_address(address)
    seen = record_state(store.engine, member_id, entity, entity_id)
    if seen and seen["key"] == key and current is not None:
        return None              # this address was placed before; a hand-edited value stays
    result = geocoder_for(services, member_id).lookup(address)
    save_record(store.engine, member_id, entity, entity_id, result)
    if result.found and (current is None or abs(current[0] - result.lat) > 1e-6
                         or abs(current[1] - result.lon) > 1e-6):
        client.call(f"crm.{entity}.update", {"id": int(entity_id),
                                             "fields": {coord_field: format_point(result.lat, result.lon)}})
        if entity == "deal":     # the marker moves: the map's cache reads the deal again
            jobcache.mark_dirty(store.engine, member_id, [entity_id])
            jobcache.queue_refresh(services, member_id)
    elif not result.found:
        log.info("portal %s: %s %s address %r not placed (%s)", member_id, entity, entity_id, address, result.status)
    return result


def pin_record(services, member_id: str, entity: str, entity_id: int, lat: float, lon: float) -> GeoResult:
    """A dispatcher drops or moves a pin: kept as this portal's manual answer for the address the record is
    placed by (the same one geocode_record resolves, so the next deal event finds the manual answer in the
    cache instead of asking the geocoder) and written to the record's coordinates field."""
    if entity not in ("deal", "company") or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("entity deal|company and lat/lon in range expected")
    ids = installed_ids(services.store, member_id)
    coord_field = ids.deal_field("coordinates") if entity == "deal" else ids.company_field("coordinates")
    client = services.client(member_id)
    row = client.call(f"crm.{entity}.get", {"id": int(entity_id)})
    address = record_address(client, ids, entity, row) or f"{entity} {entity_id}"
    result = geocoder_for(services, member_id).set_manual(address, lat, lon)
    save_record(services.store.engine, member_id, entity, entity_id, result)
    client.call(f"crm.{entity}.update", {"id": int(entity_id), "fields": {coord_field: format_point(lat, lon)}})
    return result


def _entity_id(payload: dict) -> int | None:
    data = payload.get("data") or {}
    fields = data.get("FIELDS") or data.get("fields") or {}
    raw = str(fields.get("ID") or "")
    return int(raw) if raw.isdigit() else None


def on_deal_event(services, member_id: str, payload: dict) -> None:
    """A deal was added, changed or deleted: mark it for the map's refresh (no portal call here); the
    refresh job reads every marked deal in batches of 50 and geocodes what it read."""
    deal_id = _entity_id(payload)
    if deal_id is None:
        return
    jobcache.mark_dirty(services.store.engine, member_id, [deal_id])
    jobcache.queue_refresh(services, member_id)


def on_refresh(services, member_id: str, payload: dict | None = None, *, stale_companies=()) -> int:
    """The inbox job ``maps/refresh``: the dirty deals into the map's cache, then each one geocoded."""
    try:
        ids = installed_ids(services.store, member_id)
    except NotInstalled:
        return 0
    before = jobcache.load(services.store.engine, member_id)      # the stages as we knew them: hand-off on entry
    rows = jobcache.refresh(services, member_id, stale_companies=stale_companies)
    for deal_id, row in rows.items():
        if row is not None:
            geocode_row(services, member_id, ids, "deal", deal_id, row)
    handoff.on_rows(services, member_id, ids, rows, before=before)
    return len(rows)


def on_company_event(services, member_id: str, payload: dict) -> None:
    """The company is geocoded, and so is every open deal of ours that takes its address from it (no job
    address of its own): when the company moves, those markers move with it. Its deals on the map are read
    again with the company's current name."""
    company_id = _entity_id(payload)
    if company_id is None:
        return
    geocode_record(services, member_id, "company", company_id)
    for deal_id in deals_on_company_address(services, member_id, company_id):
        geocode_record(services, member_id, "deal", deal_id)
    named = jobcache.cached_deals_of_company(services.store.engine, member_id, company_id)
    if named:
        jobcache.mark_dirty(services.store.engine, member_id, named)
        on_refresh(services, member_id, stale_companies={company_id})


def deals_on_company_address(services, member_id: str, company_id: int) -> list[int]:
    """Open deals of the b24app pipelines bound to the company whose job address field is empty."""
    try:
        ids = installed_ids(services.store, member_id)
    except NotInstalled:
        return []
    cats = [ids.pipeline(k).category_id for k in PIPELINES if k in ids.data.get("pipelines", {})]
    if not cats:
        return []
    addr = ids.deal_field("job_address")
    rows = services.client(member_id).list_all("crm.deal.list", {
        "select": ["ID", addr], "filter": {"COMPANY_ID": int(company_id), "@CATEGORY_ID": cats,
                                           "STAGE_SEMANTIC_ID": "P"}})
    return sorted(int(r["ID"]) for r in rows if not str(r.get(addr) or "").strip())
