"""The worker's phone as a domain: its HTTP edge (pages and JSON). Its tables come with the ``field`` Alembic
branch; it has no robots, events or periodic jobs of its own (the actions are the phone's)."""
from __future__ import annotations


def plugin(registry) -> None:
    registry.blueprint("handlers.field")
