"""The service desk (seed 003) as a domain: the dispatcher's intake screen is all it adds."""
from __future__ import annotations


def plugin(registry) -> None:
    registry.blueprint("handlers.desk")
