"""The orders map as a domain: its field-job robots, background geocoding of deals and companies, its
settings document and its HTTP edge."""
from __future__ import annotations

from . import geocoding, jobcache, robots, settings


def plugin(registry) -> None:
    registry.robot("b24app_start_job", robots.start_job)
    registry.robot("b24app_finish_job", robots.finish_job)
    registry.robot("b24app_assign_nearest_worker", robots.assign_nearest_worker)
    for event in ("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"):
        registry.on_event(event, geocoding.on_deal_event)
    registry.inbox_job(jobcache.REFRESH_KIND, jobcache.REFRESH_NAME, geocoding.on_refresh)
    registry.every("maps.safety_net", jobcache.SAFETY_EVERY, jobcache.safety_net_job)
    for event in ("ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE"):
        registry.on_event(event, geocoding.on_company_event)
    registry.settings_schema("maps.settings", settings.validate)
    registry.blueprint("handlers.maps")
