"""The service desk (seed 003) as a domain: the dispatcher's intake screen popped by the portal's calls,
work orders in five scenario pipelines with stages computed from their status, warranty claims, mechanics,
equipment history."""
from __future__ import annotations

from field import day as field_day

from . import calls, workorder
from .field_kind import WorkOrders


def plugin(registry) -> None:
    registry.on_event("ONVOXIMPLANTCALLINIT", calls.on_call_init)
    registry.on_event("ONVOXIMPLANTCALLSTART", calls.on_call_start)
    registry.on_event("ONVOXIMPLANTCALLEND", calls.on_call_end)
    registry.on_event("ONCRMDEALUPDATE", workorder.on_deal_update)
    registry.inbox_job(workorder.CHECK_KIND, workorder.CHECK_NAME, workorder.check_stages)
    registry.every("desk.calls_cleanup", 3600, calls.forget_old, "desk.calls_cleanup_seconds")
    registry.blueprint("handlers.desk")
    field_day.KINDS.setdefault(WorkOrders.kind, WorkOrders())    # the mechanic's orders on his phone page
