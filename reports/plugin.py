"""Dashboards and exports as a domain: the pages and exports, plans per employee and month, the
dashboards' cache kept current by Visit events and the scheduler (reports/cache.py), the JSON feed."""
from __future__ import annotations

from visits import overview

from . import cache, plans


def plugin(registry) -> None:
    if plans.month_map not in overview.MONTH_PLANS:      # the visits page's stats see the month's own plans
        overview.MONTH_PLANS.append(plans.month_map)
    registry.on_event("ONCRMDYNAMICITEMADD", cache.on_visit_change)
    registry.on_event("ONCRMDYNAMICITEMUPDATE", cache.on_visit_change)
    registry.on_event("ONCRMDYNAMICITEMDELETE", cache.on_visit_delete)
    registry.inbox_job(cache.REFRESH_KIND, cache.REFRESH_NAME, cache.run_refresh)
    registry.every("reports.cache", 300, cache.scheduled)
    registry.blueprint("handlers.reports")
