"""Two fidelity points: ``profile`` (the caller's basic profile, no scope needed) and the entityTypeId a
new smart process gets (even ids from 1032 on a current portal, 128..191 first on an old one)."""
from __future__ import annotations

from .methods_helpers import CID, install, ok, rest


def test_profile_answers_the_documented_fields(cloud, portal, tok):
    me = ok(portal, "profile", tok)["result"]
    assert set(me) == {"ID", "ADMIN", "NAME", "LAST_NAME", "PERSONAL_GENDER", "TIME_ZONE", "TIME_ZONE_OFFSET"}
    assert me["ID"] == "1" and me["ADMIN"] is True
    assert (me["NAME"], me["LAST_NAME"]) == ("Андрей", "Администраторов") and me["PERSONAL_GENDER"] == "M"
    assert me["TIME_ZONE"] == "Europe/Moscow" and me["TIME_ZONE_OFFSET"] == 3 * 3600
    # another employee: not an admin; a photo appears only when the user has one
    portal.db.users.get(2)["PERSONAL_PHOTO"] = "https://cdn.example/2.jpg"
    manager = ok(portal, "profile", portal.issue_tokens(CID, 2).access.token)["result"]
    assert manager["ID"] == "2" and manager["ADMIN"] is False and manager["PERSONAL_GENDER"] == "F"
    assert manager["PERSONAL_PHOTO"] == "https://cdn.example/2.jpg"
    # an automatic time zone is "" (the offset still comes); an inactive user gets an empty array
    portal.db.users.get(3).update(AUTO_TIME_ZONE="Y", TIME_ZONE="Asia/Yekaterinburg")
    employee = ok(portal, "profile", portal.issue_tokens(CID, 3).access.token)["result"]
    assert employee["TIME_ZONE"] == "" and employee["TIME_ZONE_OFFSET"] == 5 * 3600
    portal.db.users.get(3)["ACTIVE"] = False
    assert ok(portal, "profile", portal.issue_tokens(CID, 3).access.token)["result"] == []


def test_profile_needs_no_scope(cloud, portal, receiver):
    """Scope "basic": an app granted only "crm" still reads who the user is; user.get needs "user"."""
    token = install(cloud, portal, receiver.url, scope=["crm"])
    assert ok(portal, "profile", token)["result"]["ID"] == "1"
    assert rest(portal, "user.get", token, ID=1)[1]["error"] == "insufficient_scope"
    assert rest(portal, "profile")[0] == 401                     # no auth at all: still refused


def test_new_smart_processes_get_even_ids_from_1032_and_never_reuse_them(portal, tok):
    """crm/install/index.php starts the "dynamic_type_id" sequence at 1030; each type takes the next +2."""
    add = lambda **f: ok(portal, "crm.type.add", tok, fields={"title": "T", **f})["result"]["type"]  # noqa: E731
    first, second = add(), add()
    assert (first["entityTypeId"], second["entityTypeId"]) == (1032, 1034)
    assert first["id"] != first["entityTypeId"]
    cat = _default_cat(portal, tok, 1032)
    stages = ok(portal, "crm.status.list", tok, filter={"ENTITY_ID": f"DYNAMIC_1032_STAGE_{cat}"})
    assert stages["result"][0]["STATUS_ID"].startswith("DT1032_")
    ok(portal, "crm.type.delete", tok, id=second["id"])
    assert add()["entityTypeId"] == 1036                         # 1034 is not handed out again
    assert add(entityTypeId=1040)["entityTypeId"] == 1040         # chosen by hand: an even id ≥ 1030 …
    assert add(entityTypeId=150)["entityTypeId"] == 150           # … or one of 128..191
    assert add()["entityTypeId"] == 1038
    assert add()["entityTypeId"] == 1042                         # the sandbox steps over 1040
    for bad in (1031, 192, 127, 1028):
        status, body = rest(portal, "crm.type.add", tok, fields={"title": "X", "entityTypeId": bad})
        assert status == 400 and body["error"] == "INVALID_ARG_VALUE", bad


def test_an_old_portal_hands_out_128_to_191_first(portal, tok):
    portal.db.dynamic_type_seq = None
    ids = [ok(portal, "crm.type.add", tok, fields={"title": f"T{i}"})["result"]["type"]["entityTypeId"]
           for i in range(2)]
    assert ids == [128, 129]


def _default_cat(portal, tok, etid: int) -> int:
    return ok(portal, "crm.category.list", tok, entityTypeId=etid)["result"]["categories"][0]["id"]
