"""The calculation → work flow (seed 002) as a domain: a deal goes to Calculation (an engineer, a
department or the shared queue), comes back with variants, the manager picks one, then orders the Work."""
from __future__ import annotations

from . import robots


def plugin(registry) -> None:
    registry.robot("b24app_send_to_calculation", robots.send_to_calculation)
    registry.robot("b24app_order_work", robots.order_work)
    registry.blueprint("handlers.calcwork")
