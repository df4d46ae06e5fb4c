"""Telephony as the docs describe it: a call on the portal's line fires ONVOXIMPLANTCALLINIT (CALLER_ID = the
client's phone, PHONE_NUMBER = the line), ONVOXIMPLANTCALLSTART (who answered), ONVOXIMPLANTCALLEND (sent
without a user's token: the client's number, 200 answered / 304 missed); voximplant.statistic.get lists the
calls with the recording link and file; a CALL_CARD frame's getStatus() answers the number and the CRM
binding; the telephony scope is required."""
from __future__ import annotations

import requests

from b24sandbox.methods import telephony

from .methods_helpers import SCOPES, install, ok, rest


def _events(receiver, n):
    got = receiver.wait(n)
    return [(r.form["event"], r.form) for r in got if r.path == "/ev"]


def test_a_call_fires_init_start_end_and_is_listed_with_its_recording(cloud, portal, receiver):
    tok = install(cloud, portal, receiver.url, scope=SCOPES + ["telephony"])
    company = ok(portal, "crm.company.add", tok, fields={"TITLE": "Агро", "PHONE": [{"VALUE": "+7 916 555-12-34"}]})
    for ev in ("ONVOXIMPLANTCALLINIT", "ONVOXIMPLANTCALLSTART", "ONVOXIMPLANTCALLEND"):
        ok(portal, "event.bind", tok, event=ev, handler=receiver.url + "/ev")
    before = len(receiver.got)
    call_id = telephony.incoming_call(portal, "8 916 555 12 34", line="reg77", line_number="+74951112233")
    assert telephony.call_status(portal, call_id) == {
        "CALL_ID": call_id, "PHONE_NUMBER": "8 916 555 12 34", "CRM_ENTITY_TYPE": "COMPANY",
        "CRM_ENTITY_ID": company["result"], "CRM_ACTIVITY_ID": 0, "CALL_DIRECTION": "incoming",
        "CALL_LIST_MODE": False, "CRM_BINDINGS": [{"ENTITY_TYPE": "COMPANY", "ENTITY_ID": company["result"]}]}
    telephony.answer_call(portal, call_id, 1)
    portal.clock.advance(95)
    row = telephony.end_call(portal, call_id)
    portal.wait_events()
    got = _events(receiver, before + 3)
    names = [n for n, _ in got]
    assert names == ["ONVOXIMPLANTCALLINIT", "ONVOXIMPLANTCALLSTART", "ONVOXIMPLANTCALLEND"]
    init, start, end = (f for _, f in got)
    assert (init["data[CALL_ID]"], init["data[CALL_TYPE]"], init["data[CALLER_ID]"], init["data[PHONE_NUMBER]"],
            init["data[ACCOUNT_SEARCH_ID]"]) == (call_id, "2", "8 916 555 12 34", "+74951112233", "reg77")
    assert init["auth[application_token]"] and "auth[access_token]" not in init
    assert (start["data[CALL_ID]"], start["data[USER_ID]"]) == (call_id, "1")
    assert (end["data[PHONE_NUMBER]"], end["data[PORTAL_USER_ID]"], end["data[CALL_FAILED_CODE]"],
            end["data[CALL_DURATION]"]) == ("8 916 555 12 34", "1", "200", "95")
    stats = ok(portal, "voximplant.statistic.get", tok, FILTER={"CALL_ID": call_id})
    assert stats["total"] == 1 and stats["result"][0] == row
    assert row["CALL_FAILED_CODE"] == "200" and row["RECORD_FILE_ID"] and row["CALL_RECORD_URL"].endswith(".mp3")
    audio = requests.get(row["CALL_RECORD_URL"], timeout=10)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/mpeg" and audio.content


def test_a_missed_call_is_304_without_a_recording_and_unknown_numbers_stay_unbound(cloud, portal, receiver):
    tok = install(cloud, portal, receiver.url, scope=SCOPES + ["telephony"])
    call_id = telephony.incoming_call(portal, "+7 900 000-00-01")
    assert telephony.call_status(portal, call_id)["CRM_BINDINGS"] == []
    row = telephony.end_call(portal, call_id)
    assert (row["CALL_FAILED_CODE"], row["CALL_FAILED_REASON"], row["CALL_RECORD_URL"], row["RECORD_FILE_ID"]) == \
        ("304", "Missed call", "", None)
    assert ok(portal, "voximplant.statistic.get", tok, FILTER={"CALL_FAILED_CODE": "304"})["total"] == 1
    assert ok(portal, "voximplant.statistic.get", tok, FILTER={"CALL_FAILED_CODE": "200"})["result"] == []


def test_statistics_need_the_telephony_scope(cloud, portal, receiver):
    tok = install(cloud, portal, receiver.url)
    status, body = rest(portal, "voximplant.statistic.get", tok)
    assert (status, body["error"]) == (401, "insufficient_scope")


def test_the_call_card_page_frames_the_call_card_placement_of_a_known_call(cloud, portal, receiver):
    tok = install(cloud, portal, receiver.url, scope=SCOPES + ["telephony"])
    ok(portal, "placement.bind", tok, PLACEMENT="CALL_CARD", HANDLER=receiver.url + "/card", TITLE="Карточка")
    assert requests.get(f"{portal.url}/telephony/call/NOPE.1.1/", timeout=10).status_code == 404
    call_id = telephony.incoming_call(portal, "+7 916 555-12-34")
    page = requests.get(f"{portal.url}/telephony/call/{call_id}/", timeout=10)
    assert page.status_code == 200 and '"PLACEMENT": "CALL_CARD"' in page.text
    assert f'"CALL_ID": "{call_id}"' in page.text and '"PHONE_NUMBER": "+7 916 555-12-34"' in page.text


def test_an_external_pbx_call_registered_and_finished_through_the_app(cloud, portal, receiver):
    """telephony.externalCall.register / finish (an app's PBX): the INIT event in its telephony-app shape,
    the same CALL_ID for a re-registration within 30 minutes, errors as documented, the statistics row with
    the record URL, and 304 by default for a zero-length call."""
    tok = install(cloud, portal, receiver.url, scope=SCOPES + ["telephony"])
    ok(portal, "event.bind", tok, event="ONVOXIMPLANTCALLINIT", handler=receiver.url + "/ev")
    before = len(receiver.got)
    reg = ok(portal, "telephony.externalCall.register", tok, USER_ID=1, PHONE_NUMBER="79161234567", TYPE=2,
             LINE_NUMBER="3", EXTERNAL_CALL_ID="asterisk-1.1")["result"]
    assert reg["CALL_ID"].startswith("externalCall.") and reg["CRM_CREATED_LEAD"] is None
    again = ok(portal, "telephony.externalCall.register", tok, USER_ID=1, PHONE_NUMBER="79161234567", TYPE=2,
               LINE_NUMBER="3", EXTERNAL_CALL_ID="asterisk-1.1")["result"]
    assert again["CALL_ID"] == reg["CALL_ID"]
    portal.wait_events()
    init = [r.form for r in receiver.wait(before + 1) if r.path == "/ev"]
    assert len(init) == 1 and (init[0]["data[CALL_ID]"], init[0]["data[CALL_TYPE]"], init[0]["data[CALLER_ID]"]) == \
        (reg["CALL_ID"], "2", "79161234567") and init[0]["data[REST_APP_ID]"]
    for params, error in (({"PHONE_NUMBER": "1", "TYPE": 2}, "USER_ID or USER_PHONE_INNER should be set"),
                          ({"USER_ID": 1, "PHONE_NUMBER": "79161234567", "TYPE": 9}, "Unknown TYPE")):
        status, body = rest(portal, "telephony.externalCall.register", tok, **params)
        assert (status, body["error_description"]) == (400, error)
    done = ok(portal, "telephony.externalCall.finish", tok, CALL_ID=reg["CALL_ID"], USER_ID=1, DURATION=95,
              RECORD_URL="https://pbx.example/rec/1.mp3")["result"]
    assert (done["CALL_FAILED_CODE"], done["CALL_STATUS"], done["PORTAL_NUMBER"], done["INCOMING"]) == \
        ("200", 1, "3", "2")
    row = ok(portal, "voximplant.statistic.get", tok, FILTER={"CALL_ID": reg["CALL_ID"]})["result"][0]
    assert row["CALL_RECORD_URL"] == "https://pbx.example/rec/1.mp3" and row["EXTERNAL_CALL_ID"] == "asterisk-1.1"
    short = ok(portal, "telephony.externalCall.register", tok, USER_ID=1, PHONE_NUMBER="79160000000", TYPE=2)["result"]
    assert ok(portal, "telephony.externalCall.finish", tok, CALL_ID=short["CALL_ID"], USER_ID=1)["result"][
        "CALL_FAILED_CODE"] == "304"
    status, body = rest(portal, "telephony.externalCall.finish", tok, CALL_ID="nope", USER_ID=1)
    assert (status, body["error"]) == (400, "ERROR_CORE")
