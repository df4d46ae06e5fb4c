"""placement.*, bizproc.robot/activity.*, run_robot's POST and bizproc.event.send over HTTP."""
from __future__ import annotations

import requests

from b24sandbox.robots import run_robot

from .methods_helpers import CID, install, ok, rest


def test_placement_bind_get_unbind_and_errors(portal, tok, receiver):
    h = receiver.url + "/tab"
    assert ok(portal, "placement.bind", tok, PLACEMENT="crm_deal_detail_tab", HANDLER=h, TITLE="Карта")["result"]
    assert rest(portal, "placement.bind", tok, PLACEMENT="CRM_DEAL_DETAIL_TAB", HANDLER=h) == (
        400, {"error": "ERROR_CORE", "error_description": "Unable to set placement handler: Handler already binded"})
    _, body = rest(portal, "placement.bind", tok, PLACEMENT="DEFAULT", HANDLER=h)
    assert body["error"] == "ERROR_PLACEMENT_NOT_FOUND"
    status, body = rest(portal, "placement.bind", tok, HANDLER=h)
    assert status == 400 and body["error"] == "ERROR_ARGUMENT" and body["argument"] == "PLACEMENT"
    assert rest(portal, "placement.bind", tok, PLACEMENT="LEFT_MENU", HANDLER="ftp://x.ru/")[1]["error"] == \
        "ERROR_UNSUPPORTED_PROTOCOL"
    r = requests.post(portal.webhook_url + "placement.bind.json", json={"PLACEMENT": "LEFT_MENU", "HANDLER": h})
    assert r.status_code == 403 and r.json()["error"] == "WRONG_AUTH_TYPE"
    got = ok(portal, "placement.get", tok)["result"]
    assert got == [{"placement": "CRM_DEAL_DETAIL_TAB", "userId": 0, "handler": h, "options": [], "title": "Карта",
                    "description": "", "groupName": "", "langAll": []}]
    assert [p["client_id"] for p in portal.db.placements.values()] == [CID]
    assert "CRM_DEAL_DETAIL_TAB" in ok(portal, "placement.list", tok)["result"]
    assert ok(portal, "placement.unbind", tok, PLACEMENT="CRM_DEAL_DETAIL_TAB")["result"] == {"count": 1}
    assert ok(portal, "placement.get", tok)["result"] == []


def test_placement_needs_module_scope(cloud, portal, receiver):
    tok = install(cloud, portal, receiver.url, scope=["placement"])
    assert rest(portal, "placement.bind", tok, PLACEMENT="CRM_DEAL_DETAIL_TAB",
                HANDLER=receiver.url + "/t")[1]["error"] == "ERROR_PLACEMENT_NOT_FOUND"
    assert ok(portal, "placement.bind", tok, PLACEMENT="LEFT_MENU", HANDLER=receiver.url + "/t")["result"] is True


ROBOT = {"CODE": "plan_job", "NAME": {"ru": "Запланировать выезд"}, "PROPERTIES": {
    "worker": {"Name": "Сотрудник", "Type": "user"}, "note": {"Name": "Комментарий", "Type": "string",
                                                            "Default": "—"}},
    "RETURN_PROPERTIES": {"slot": {"Name": "Время", "Type": "string"}},
    "DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal", "DEAL"]}


def test_robot_validation_errors(portal, tok, receiver):
    base = dict(ROBOT, HANDLER=receiver.url + "/robot")
    cases = [({**base, "CODE": ""}, "Empty activity code!"), ({**base, "CODE": "bad code"}, "Wrong activity code!"),
             ({**base, "NAME": ""}, "Empty activity NAME!"),
             ({**base, "PROPERTIES": {"1x": {"Name": "a"}}}, "Wrong property key (1x)!"),
             ({**base, "PROPERTIES": {"x": {"Type": "string"}}}, "Empty property NAME (x)!"),
             ({**base, "DOCUMENT_TYPE": ["crm"]}, "Wrong activity DOCUMENT_TYPE!")]
    for params, msg in cases:
        assert rest(portal, "bizproc.robot.add", tok, **params) == (
            400, {"error": "ERROR_ACTIVITY_VALIDATION_FAILURE", "error_description": msg})
    assert ok(portal, "bizproc.robot.add", tok, **base)["result"] is True
    assert rest(portal, "bizproc.robot.add", tok, **base)[1]["error"] == "ERROR_ACTIVITY_ALREADY_INSTALLED"
    assert rest(portal, "bizproc.activity.add", tok, **base)[1]["error"] == "ERROR_ACTIVITY_ALREADY_INSTALLED"
    assert ok(portal, "bizproc.robot.list", tok)["result"] == ["plan_job"]
    assert ok(portal, "bizproc.activity.list", tok)["result"] == []
    r = requests.post(portal.webhook_url + "bizproc.robot.add.json", json=base)
    assert r.status_code == 403 and r.json()["error"] in ("ACCESS_DENIED", "WRONG_AUTH_TYPE")
    assert ok(portal, "bizproc.robot.update", tok, CODE="plan_job", FIELDS={"NAME": "Новое"})["result"] is True
    assert ok(portal, "bizproc.robot.delete", tok, CODE="plan_job")["result"] is True
    assert rest(portal, "bizproc.robot.delete", tok, CODE="plan_job")[1]["error"] == "ERROR_ACTIVITY_NOT_FOUND"


def test_run_robot_posts_the_portal_form_and_event_send_records(portal, tok, receiver):
    ok(portal, "bizproc.robot.add", tok, **dict(ROBOT, HANDLER=receiver.url + "/robot"))
    token = run_robot(portal, CID, "plan_job", "DEAL_15", {"worker": "user_4"}, user_id=1)
    form = [r for r in receiver.got if r.path == "/robot"][-1].form
    assert form["code"] == "plan_job" and form["event_token"] == token
    assert (form["document_id[0]"], form["document_id[1]"], form["document_id[2]"]) == \
        ("crm", "CCrmDocumentDeal", "DEAL_15")
    assert form["document_type[2]"] == "DEAL" and form["properties[worker]"] == "user_4"
    assert form["properties[note]"] == "—" and form["use_subscription"] == "Y" and form["timeout_duration"] == "0"
    assert form["auth[refresh_token]"] and form["auth[access_token]"] and form["auth[member_id]"] == portal.member_id
    # the app answers with any token it was given (here: the admin's own)
    assert ok(portal, "bizproc.event.send", tok, event_token=token,
              return_values={"SLOT": "10:00", "junk": 1}, log_message="ok")["result"] is True
    call = portal.db.robot_calls[-1]
    assert call.answered and call.return_values == {"slot": "10:00"} and call.log_messages == ["ok"]
    assert ok(portal, "bizproc.event.send", tok, event_token=token)["result"] is True      # stale: still true
    assert rest(portal, "bizproc.event.send", tok, event_token="forged.token")[0] == 403
