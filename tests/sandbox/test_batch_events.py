"""batch (reference §7.2), event delivery (§2.2), offline queue (§2.4) and the install lifecycle
(§1.2, §1.4) of the sandbox portal, over real HTTP with a real receiver server."""
from __future__ import annotations

import json

import pytest
import requests


CID, SECRET = "local.77aa00.87654321", "s3cr3t"


@pytest.fixture
def app(cloud, portal, receiver):
    cloud.register_app(CID, SECRET, handler_url=receiver.url + "/app", install_url=receiver.url + "/install",
                       scope=["crm", "placement", "user"])
    portal.install_app(CID)
    portal.finish_install(CID)
    receiver.got.clear()
    return portal.issue_tokens(CID, 1)


def call(portal, name, token, **params):
    return requests.post(f"{portal.url}/rest/{name}", json={**params, "auth": token}, timeout=10)


# --- batch ----------------------------------------------------------------------------------------
def test_batch_references_and_empty_maps(portal, app):
    cmd = {"info": "app.info", "bind": "event.bind?event=ONCRMDEALADD&handler=http%3A%2F%2Fa.example%2Fh",
           "list": "event.get",
           "whole": "event.unbind?event=$result[list][0][event]&handler=$result[list][0][handler]",
           "t": "server.time"}
    r = call(portal, "batch", app.access.token, cmd=cmd)
    assert r.status_code == 200
    res = r.json()["result"]
    assert set(res) == {"result", "result_error", "result_total", "result_next", "result_time"}
    assert res["result"]["info"]["CODE"] == CID
    assert res["result"]["bind"] is True
    assert res["result"]["whole"] == {"count": 1}
    assert res["result_error"] == [] and res["result_total"] == [] and res["result_next"] == []
    assert set(res["result_time"]) == set(cmd)
    assert portal.limits.bucket_level == 1                 # one request for the leaky bucket


def test_batch_halt_list_form_and_errors(portal, app):
    cmds = ["server.time", "no.such.method", "batch?cmd[x]=server.time", "server.time"]
    res = call(portal, "batch", app.access.token, cmd=cmds).json()["result"]
    assert res["result_error"]["1"]["error"] == "ERROR_METHOD_NOT_FOUND"
    assert res["result_error"]["2"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert set(res["result"]) == {"0", "3"}
    halted = call(portal, "batch", app.access.token, cmd=cmds, halt=1).json()["result"]
    assert set(halted["result"]) == {"0"} and set(halted["result_error"]) == {"1"}


def test_batch_51_commands_and_form_encoding(portal, app):
    data = {"auth": app.access.token}
    for i in range(51):
        data[f"cmd[c{i}]"] = "server.time"
    res = requests.post(f"{portal.url}/rest/batch.json", data=data).json()["result"]
    assert len(res["result"]) == 50
    assert res["result_error"] == {"c50": {"error": "ERROR_BATCH_LENGTH_EXCEEDED",
                                           "error_description": "Max batch length exceeded"}}


def test_batch_embedded_reference_interpolates_scalars(portal, app, receiver):
    cmd = {"info": "app.info",
           "bind": f"event.bind?event=ONCRMDEALADD&handler={receiver.url}/x%3Fcode%3D$result[info][CODE]"}
    res = call(portal, "batch", app.access.token, cmd=cmd).json()["result"]
    assert res["result"]["bind"] is True
    assert portal.events.bindings[0].handler == f"{receiver.url}/x?code={CID}"


# --- online events --------------------------------------------------------------------------------
def test_online_event_delivery_form(portal, app, receiver):
    call(portal, "event.bind", app.access.token, event="ONCRMDEALADD", handler=receiver.url + "/events")
    portal.emit("ONCRMDEALADD", {"FIELDS": {"ID": 5}}, 1)
    got = receiver.wait(1)[0]
    assert got.path == "/events" and got.content_type == "application/x-www-form-urlencoded"
    f = got.form
    assert f["event"] == "ONCRMDEALADD" and f["data[FIELDS][ID]"] == "5" and f["event_handler_id"].isdigit()
    assert f["auth[application_token]"] == portal.installs[CID].application_token
    assert f["auth[member_id]"] == portal.member_id and f["auth[domain]"] == portal.domain
    assert f["auth[client_endpoint]"] == portal.url + "/rest/" and f["auth[expires_in]"] == "3600"
    assert f["auth[status]"] == "L" and f["auth[scope]"] == "crm,placement,user"
    assert "auth[refresh_token]" not in f
    assert requests.post(f"{portal.url}/rest/server.time", data={"auth": f["auth[access_token]"]}).ok
    portal.wait_events()
    assert portal.deliveries[-1].status == 200


def test_event_without_user_has_no_tokens_and_drop_fault(portal, app, receiver):
    call(portal, "event.bind", app.access.token, event="ONCRMDEALUPDATE", handler=receiver.url + "/e")
    portal.emit("ONCRMDEALUPDATE", {"FIELDS": {"ID": "7"}}, None)
    f = receiver.wait(1)[0].form
    assert "auth[access_token]" not in f and f["auth[application_token]"]
    portal.faults.drop_events = 1.0
    portal.emit("ONCRMDEALUPDATE", {"FIELDS": {"ID": "8"}}, 1)
    portal.wait_events()
    assert len(receiver.got) == 1 and portal.deliveries[-1].dropped


def test_no_events_before_install_finish(cloud, portal, receiver):
    cloud.register_app(CID, SECRET, handler_url=receiver.url + "/app", install_url=receiver.url + "/install")
    portal.install_app(CID)
    tok = portal.issue_tokens(CID).access.token
    assert call(portal, "event.bind", tok, event="ONCRMDEALADD", handler=receiver.url + "/e").ok
    portal.emit("ONCRMDEALADD", {"FIELDS": {"ID": "1"}}, 1)
    portal.wait_events()
    assert [g.path for g in receiver.got] == ["/install"]
    portal.finish_install(CID)
    portal.emit("ONCRMDEALADD", {"FIELDS": {"ID": "2"}}, 1)
    assert receiver.wait(2)[1].form["data[FIELDS][ID]"] == "2"


# --- offline events -------------------------------------------------------------------------------
def test_offline_queue_dedup_reserve_and_clear(portal, app):
    t = app.access.token
    assert call(portal, "event.bind", t, event="ONCRMDEALUPDATE", event_type="offline").ok
    for _ in range(3):
        portal.emit("ONCRMDEALUPDATE", {"FIELDS": {"ID": "5"}}, 1)
    portal.emit("ONCRMDEALUPDATE", {"FIELDS": {"ID": "6"}}, 1)
    listed = call(portal, "event.offline.list", t).json()
    assert listed["total"] == 2
    got = call(portal, "event.offline.get", t, clear=0).json()["result"]
    assert got["process_id"] and [e["EVENT_DATA"]["FIELDS"]["ID"] for e in got["events"]] == ["5", "6"]
    assert call(portal, "event.offline.get", t, clear=0).json()["result"]["events"] == []   # reserved
    portal.emit("ONCRMDEALUPDATE", {"FIELDS": {"ID": "5"}}, 1)       # new row: the old one is reserved
    assert call(portal, "event.offline.clear", t, process_id=got["process_id"]).json()["result"] is True
    rest_ = call(portal, "event.offline.get", t).json()["result"]
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in rest_["events"]] == ["5"]
    assert call(portal, "event.offline.list", t).json()["total"] == 0


def test_offline_error_and_connector_suppression(portal, app):
    t = app.access.token
    call(portal, "event.bind", t, event="ONCRMDEALADD", event_type="offline", auth_connector="sync")
    portal.emit("ONCRMDEALADD", {"FIELDS": {"ID": "1"}}, 1)
    got = call(portal, "event.offline.get", t, clear=0).json()["result"]
    mid = got["events"][0]["MESSAGE_ID"]
    call(portal, "event.offline.error", t, process_id=got["process_id"], message_id=[mid])
    assert call(portal, "event.offline.get", t, error=1).json()["result"]["events"][0]["MESSAGE_ID"] == mid
    assert call(portal, "event.get", t).json()["result"] == [{"event": "ONCRMDEALADD", "connector_id": "sync",
                                                              "offline": 1}]


# --- install lifecycle ----------------------------------------------------------------------------
def test_frame_install_posts_like_the_portal(cloud, portal, receiver):
    cloud.register_app(CID, SECRET, handler_url=receiver.url + "/app", install_url=receiver.url + "/install",
                       scope=["crm", "placement"])
    out = portal.install_app(CID, lang="en")
    assert out["status"] == 200
    got = receiver.wait(1)[0]
    assert got.path == "/install"
    assert got.query["DOMAIN"] == portal.domain and got.query["PROTOCOL"] == "0" and got.query["LANG"] == "en"
    assert len(got.query["APP_SID"]) == 32
    f = got.form
    assert set(f) == {"AUTH_ID", "AUTH_EXPIRES", "REFRESH_ID", "SERVER_ENDPOINT", "APPLICATION_TOKEN",
                      "APPLICATION_SCOPE", "member_id", "status", "PLACEMENT"}
    assert f["PLACEMENT"] == "DEFAULT" and f["status"] == "L" and f["APPLICATION_SCOPE"] == "crm,placement"
    assert f["SERVER_ENDPOINT"] == cloud.oauth_url + "/rest/"
    assert portal.installs[CID].installed is False


def test_event_install_uninstall_update(cloud, portal, receiver):
    cloud.register_app(CID, SECRET, handler_url=receiver.url + "/app", install_url=receiver.url + "/install")
    portal.install_app(CID, mode="event", lang="de")
    f = receiver.wait(1)[0].form
    assert f["event"] == "ONAPPINSTALL" and f["data[LANGUAGE_ID]"] == "de" and f["data[INSTALLED]"] == "Y"
    assert f["auth[refresh_token]"] and f["auth[access_token]"] and f["auth[application_token]"]
    assert portal.installs[CID].installed is True
    t = f["auth[access_token]"]
    call(portal, "event.bind", t, event="ONAPPUPDATE", handler=receiver.url + "/upd")
    call(portal, "event.bind", t, event="ONAPPUNINSTALL", handler=receiver.url + "/bye")
    portal.update_app(CID, "2")
    upd = receiver.wait(2)[1].form
    assert upd["data[VERSION]"] == "2" and upd["data[PREVIOUS_VERSION]"] == "1"
    portal.uninstall_app(CID, clean=False)
    bye = receiver.wait(3)[2]
    assert bye.path == "/bye" and bye.form["data[CLEAN]"] == "0" and "auth[access_token]" not in bye.form
    assert bye.form["auth[application_token]"] == f["auth[application_token]"]
    assert portal.events.bindings == []


def test_portal_pages_render_the_frame_form(cloud, portal, receiver):
    cloud.register_app(CID, SECRET, handler_url=receiver.url + "/app", install_url=receiver.url + "/install")
    portal.install_app(CID)
    page = requests.get(f"{portal.url}/marketplace/app/{CID}/").text
    assert f'action="{receiver.url}/install?DOMAIN=' in page and 'name="AUTH_ID"' in page
    requests.post(f"{portal.url}/marketplace/app/{CID}/finish")
    page = requests.get(f"{portal.url}/marketplace/app/{CID}/?user=1").text
    assert f'action="{receiver.url}/app?DOMAIN=' in page
    # like the real portal, every frame POST carries the app's application_token (the app requires it)
    token = portal.installs[CID].application_token
    assert f'name="APPLICATION_TOKEN" value="{token}"' in page
    assert f'name="member_id" value="{portal.member_id}"' in page
    assert "BX24" in requests.get(portal.url + "/api/v1/").text
    assert CID in requests.get(portal.url + "/").text
    frame = json.loads(page.split("var FRAME = ")[1].split(";\n")[0])
    assert frame["data"]["PLACEMENT"] == "DEFAULT" and frame["data"]["IS_ADMIN"] is True
