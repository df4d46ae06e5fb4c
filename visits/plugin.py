"""Visits as a domain: the create-visit robot, the kanban sweep and the calendar drain, the Visit item
events that mark the calendar, and the HTTP edge (pages, phone link, settings)."""
from __future__ import annotations

from . import calendar_back, calendar_sync, events, robots, rules, sweep


def plugin(registry) -> None:
    registry.robot("b24app_create_visit", robots.create_visit)
    registry.on_event("ONCRMDYNAMICITEMADD", events.on_item_change)
    registry.on_event("ONCRMDYNAMICITEMUPDATE", events.on_item_change)
    registry.on_event("ONCRMDYNAMICITEMDELETE", events.on_item_delete)
    registry.on_event("ONCALENDARENTRYUPDATE", calendar_back.on_entry_update)
    registry.on_event("ONCALENDARENTRYDELETE", calendar_back.on_entry_delete)
    registry.every("visits.sweep", 300, sweep.run, rules.KV_SWEEP_SECONDS)
    registry.every("visits.calendar", 60, calendar_sync.run, calendar_sync.KV_CALENDAR_SECONDS)
    registry.blueprint("handlers.visits")
