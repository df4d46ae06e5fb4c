"""The rules domain's declarations: deal events evaluated from the inbox, the time-based pass from the
scheduler, the admin's rules file API."""
from __future__ import annotations

from . import engine, model


def plugin(registry) -> None:
    registry.on_event("ONCRMDEALADD", engine.on_deal_event)
    registry.on_event("ONCRMDEALUPDATE", engine.on_deal_event)
    registry.on_event("ONCRMLEADADD", engine.on_lead_event)
    registry.on_event("ONCRMLEADUPDATE", engine.on_lead_event)
    registry.every("rules.sweep", 300, engine.run, "rules.sweep_seconds")
    registry.settings_schema(model.KV_KEY, model.validate)
    registry.blueprint("handlers.rules")
    registry.blueprint("handlers.nps")
