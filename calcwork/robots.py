"""Robots of the calculation → work flow (seed 002): a deal sends its measurement to Calculation
(``b24app_send_to_calculation``) and orders the Work (``b24app_order_work``); each makes one child item
of its smart process, bound to the deal, once per robot call (``xmlId = b24app:<event_token>``)."""
from __future__ import annotations

from b24app.idempotent import add_once
from b24app.robot_runtime import RobotCall
from install.registry import installed_ids


def _ids(call: RobotCall):
    """What the installer recorded for this portal (ids are discovered, never hard-coded)."""
    return installed_ids(call.services.store, call.member_id)


def _child(call: RobotCall, key: str, ret: str, extra: dict):
    deal = call.deal()
    sp = _ids(call).smart_process(key)
    fields = {"title": f"{deal.get('TITLE') or 'Deal'} #{deal['ID']}", "categoryId": sp.category_id,
              "stageId": sp.stage("new"), "parentId2": int(deal["ID"]), "assignedById": call.prop("engineer"),
              sp.field("engineer"): call.prop("engineer")}
    if deal.get("COMPANY_ID") and str(deal["COMPANY_ID"]) != "0":
        fields["companyId"] = int(deal["COMPANY_ID"])
    for prop, field in extra.items():
        if call.prop(prop):
            fields[sp.field(field)] = call.prop(prop)
    item = add_once(call.client, sp.entity_type_id, fields, call.xml_id())
    return {ret: item["id"]}, f"{key} {item['id']} created for deal {deal['ID']}, engineer {call.prop('engineer')}"


def send_to_calculation(call: RobotCall):
    return _child(call, "calculation", "calculation_id", {"comment": "notes"})


def order_work(call: RobotCall):
    return _child(call, "work", "work_id", {"contract": "contract", "comment": "report"})
