"""The visit robot: ``b24app_create_visit`` → visits.create (one shape for visits from every entry point).
Declared by ``visits.plugin``."""
from __future__ import annotations

from b24app.robot_runtime import RobotCall, RobotError, int_or_none

from .create import CreateError
from .create import create_visit as create


def create_visit(call: RobotCall):
    """The robot's inputs → visits.create (one shape for visits from every entry point)."""
    company_id, when = _visit_company(call), call.prop("visit_date")
    try:
        item = create(call.services, call.member_id, company_id, when, call.prop("visit_type") or "planned",
                      call.prop("purpose"), call.prop("responsible"), xml_id=call.xml_id())
    except CreateError as exc:
        raise RobotError(str(exc)) from exc
    return {"visit_id": item["id"]}, f"visit {item['id']} created for company {company_id} on {when} (draft)"


def _visit_company(call: RobotCall) -> int:
    """The ``company_id`` property; when the portal left its default ``{=Document:ID}`` unresolved (or it is
    empty), the company the robot runs on — ``document_id`` ``COMPANY_5`` (or a deal's company)."""
    given = call.prop("company_id")             # None when empty or an unresolved {=…} expression
    if given:
        return given
    kind, num = call.document()
    if kind == "COMPANY":
        return num
    if kind == "DEAL":
        company = int_or_none(call.deal().get("COMPANY_ID"))
        if company:
            return company
        raise RobotError(f"deal {num} has no company: set the robot's company_id")
    raise RobotError(f"company_id is not set and the robot runs on {kind}_{num}, not on a company")
