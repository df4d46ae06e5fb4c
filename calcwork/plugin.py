"""The calculation → work flow (seed 002) as a domain: a deal goes to Calculation (an engineer, a
department or the shared queue), comes back with variants, the manager picks one, then orders the Work."""
from __future__ import annotations

from . import robots, sla


def plugin(registry) -> None:
    registry.robot("b24app_send_to_calculation", robots.send_to_calculation)
    registry.robot("b24app_order_work", robots.order_work)
    registry.robot("b24app_calc_take", robots.take)
    registry.robot("b24app_calc_answer", robots.answer)
    registry.robot("b24app_calc_done", robots.done)
    registry.robot("b24app_calc_choose", robots.choose)
    registry.robot("b24app_work_accept", robots.work_accept)
    registry.robot("b24app_work_finish", robots.work_finish)
    registry.every("calcwork.sla", 300, sla.run, "calcwork.sla_seconds")
    registry.blueprint("handlers.calcwork")
