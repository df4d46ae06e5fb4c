"""Dashboards and exports as a domain: read-only pages and CSV, nothing in the background."""
from __future__ import annotations


def plugin(registry) -> None:
    registry.blueprint("handlers.reports")
