"""Dashboards and exports as a domain: the pages and exports, plans per employee and month, the
dashboards' cache kept current by Visit events and the scheduler (reports/cache.py), the JSON feed."""
from __future__ import annotations

from . import cache


def plugin(registry) -> None:
    registry.on_event("ONCRMDYNAMICITEMADD", cache.on_visit_change)
    registry.on_event("ONCRMDYNAMICITEMUPDATE", cache.on_visit_change)
    registry.on_event("ONCRMDYNAMICITEMDELETE", cache.on_visit_delete)
    registry.inbox_job(cache.REFRESH_KIND, cache.REFRESH_NAME, cache.run_refresh)
    registry.every("reports.cache", 300, cache.scheduled)
    registry.blueprint("handlers.reports")
