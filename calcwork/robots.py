"""Robots of the calculation → work flow (seed 002): a deal's automation sends it to calculation
(``b24app_send_to_calculation``) and orders its work (``b24app_order_work``) through the same steps as the
buttons (calcwork/flow.py, calcwork/work.py), acting as the app. What a call creates carries
``xmlId = b24app:<event_token>``, so a retried call finds it instead of adding a second one."""
from __future__ import annotations

from b24app.robot_runtime import RobotCall

from . import flow, work
from .context import Actor


def _actor(call: RobotCall) -> Actor:
    portal = call.services.store.portals.get(call.member_id)
    return Actor(call.services, call.member_id, None, getattr(portal, "lang", "ru") or "ru")


def send_to_calculation(call: RobotCall):
    deal = call.deal()
    engineer = call.prop("engineer")
    res = flow.request(_actor(call), int(deal["ID"]), {"kind": "user", "id": int(engineer)},
                       call.prop("comment") or "", xml=call.xml_id())
    return {"calculation_id": res["id"]}, \
        f"calculation {res['id']} created for deal {deal['ID']}, engineer {engineer}"


def order_work(call: RobotCall):
    deal = call.deal()
    engineer = call.prop("engineer")
    res = work.order(_actor(call), int(deal["ID"]), None, call.prop("contract") or "", int(engineer),
                     call.prop("comment") or "", xml=call.xml_id())
    return {"work_id": res["id"]}, f"work {res['id']} created for deal {deal['ID']}, engineer {engineer}"
