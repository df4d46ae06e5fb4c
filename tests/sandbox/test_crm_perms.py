"""CRM permissions per user over HTTP (sandbox/perms.py): what a user's own token may read and write.

Portal set-up: department 2 under the company (1), department 3 under 2. W (the field worker) and C (his
colleague) sit in 2, S in 3, manager 2 in 1. Deals: 60 of W (more than a page), 20 of C, 10 of S, 30 of
manager 2 (10 of them not open)."""
from __future__ import annotations

import pytest
import requests

from b24sandbox.demo import deal_row

from .methods_helpers import CID, ok, rest

DENIED = {"error": "", "error_description": "Access denied."}           # legacy crm.deal.* (src RestException)


@pytest.fixture
def crm(portal, tok):
    db = portal.db
    with db.lock:
        d2 = db.departments.insert({"NAME": "Выездная служба", "SORT": 600, "PARENT": 1, "UF_HEAD": 2})
        d3 = db.departments.insert({"NAME": "Бригада 1", "SORT": 700, "PARENT": d2, "UF_HEAD": 2})
        w = db.add_user("Алексей", "Смирнов", "w@example.ru", department=d2)
        c = db.add_user("Дмитрий", "Кузнецов", "c@example.ru", department=d2)
        s = db.add_user("Сергей", "Попов", "s@example.ru", department=d3)
        ids = {}
        for uid, n in ((w, 60), (c, 20), (s, 10), (2, 30)):
            ids[uid] = []
            for i in range(n):
                row = deal_row(db, "2026-03-01T10:00:00+03:00", f"Сделка {uid}-{i}", ASSIGNED_BY_ID=uid)
                row["OPENED"] = "N" if uid == 2 and i < 10 else "Y"
                ids[uid].append(db.deals.insert(row))
    token = {uid: portal.issue_tokens(CID, uid).access.token for uid in (w, c, s, 2, 3)}
    return {"w": w, "c": c, "s": s, "ids": ids, "tok": token, "admin": tok}


def _all_ids(portal, token, method="crm.deal.list", **extra):
    """Every id the list returns, paging by ``next`` like a client does; also checks total on each page."""
    out, start, total = [], 0, None
    while True:
        body = ok(portal, method, token, start=start, order={"ID": "ASC"}, select=["ID", "ASSIGNED_BY_ID"], **extra)
        rows = body["result"]["items"] if method == "crm.item.list" else body["result"]
        total = body["total"] if total is None else total
        assert body["total"] == total
        out += [int(r.get("ID", r.get("id"))) for r in rows]
        if "next" not in body:
            return out, total
        assert body["next"] == start + len(rows) == start + 50
        start = body["next"]


def test_own_deals_only_in_lists_paging_and_total(portal, crm):
    w, tok = crm["w"], crm["tok"]
    portal.set_crm_role(w, {"deal": "own", "*": "all"})
    first = ok(portal, "crm.deal.list", tok[w], select=["ID", "ASSIGNED_BY_ID"])
    assert first["total"] == 60 and first["next"] == 50 and len(first["result"]) == 50
    assert {r["ASSIGNED_BY_ID"] for r in first["result"]} == {str(w)}
    ids, total = _all_ids(portal, tok[w])
    assert ids == crm["ids"][w] and total == 60
    ids, total = _all_ids(portal, tok[w], "crm.item.list", entityTypeId=2)
    assert ids == crm["ids"][w] and total == 60
    # a user filter and the huge-data keyset path (>ID, start=-1) go through the same restriction
    last = crm["ids"][w][29]
    keyset = ok(portal, "crm.deal.list", tok[w], filter={">ID": last}, order={"ID": "ASC"}, start=-1, select=["ID"])
    assert [int(r["ID"]) for r in keyset["result"]] == crm["ids"][w][30:] and "total" not in keyset
    other = ok(portal, "crm.deal.list", tok[w], filter={"ASSIGNED_BY_ID": crm["c"]})
    assert other["result"] == [] and other["total"] == 0
    # the admin, and a user with no role, see all 120 as before
    assert ok(portal, "crm.deal.list", crm["admin"])["total"] == 120
    assert ok(portal, "crm.deal.list", tok[3])["total"] == 120
    assert ok(portal, "crm.item.list", tok[3], entityTypeId=2)["total"] == 120


def test_get_update_delete_outside_rights_refused_and_nothing_changes(portal, crm):
    w, c, tok = crm["w"], crm["c"], crm["tok"]
    portal.set_crm_role(w, {"deal": "own", "*": "all"})
    theirs, mine = crm["ids"][c][0], crm["ids"][w][0]
    before = dict(portal.db.deals.get(theirs))
    assert rest(portal, "crm.deal.get", tok[w], id=theirs) == (400, DENIED)
    assert rest(portal, "crm.deal.update", tok[w], id=theirs, fields={"TITLE": "моё", "ASSIGNED_BY_ID": w}) == (
        400, DENIED)
    assert rest(portal, "crm.deal.delete", tok[w], id=theirs) == (400, DENIED)
    status, body = rest(portal, "crm.item.update", tok[w], entityTypeId=2, id=theirs, fields={"title": "моё"})
    assert (status, body["error"]) == (400, "ACCESS_DENIED")
    assert rest(portal, "crm.item.get", tok[w], entityTypeId=2, id=theirs)[1]["error"] == "ACCESS_DENIED"
    assert rest(portal, "crm.item.delete", tok[w], entityTypeId=2, id=theirs)[1]["error"] == "ACCESS_DENIED"
    assert portal.db.deals.get(theirs) == before                     # nothing written, not even MODIFY_BY_ID
    # the controller looks the item up first; the legacy proxy checks the permission on the id first
    assert rest(portal, "crm.item.get", tok[w], entityTypeId=2, id=99999)[1]["error"] == "NOT_FOUND"
    assert rest(portal, "crm.deal.get", tok[w], id=99999) == (400, DENIED)
    assert rest(portal, "crm.deal.get", crm["admin"], id=99999)[1]["error_description"] == "Not found"
    # a permitted update records the real author
    assert ok(portal, "crm.deal.update", tok[w], id=mine, fields={"TITLE": "Замер перенесён"})["result"] is True
    got = ok(portal, "crm.deal.get", crm["admin"], id=mine)["result"]
    assert got["TITLE"] == "Замер перенесён" and got["MODIFY_BY_ID"] == str(w)
    item = ok(portal, "crm.item.update", tok[w], entityTypeId=2, id=mine, fields={"opportunity": 5})["result"]["item"]
    assert item["updatedBy"] == w
    assert rest(portal, "crm.deal.update", tok[c], id=mine, fields={"TITLE": "x"})[0] == 200   # C has no role


def test_add_needs_the_add_right_and_records_the_creator(portal, crm):
    w, tok = crm["w"], crm["tok"]
    n = len(portal.db.deals)
    portal.set_crm_role(w, {"deal": {"READ": "own", "WRITE": "own"}, "*": "all"})      # ADD missing = none
    assert rest(portal, "crm.deal.add", tok[w], fields={"TITLE": "новая"}) == (400, DENIED)
    _, body = rest(portal, "crm.item.add", tok[w], entityTypeId=2, fields={"title": "новая"})
    assert body["error"] == "ACCESS_DENIED"
    assert len(portal.db.deals) == n
    portal.set_crm_role(w, {"deal": "own", "*": "all"})
    did = ok(portal, "crm.deal.add", tok[w], fields={"TITLE": "новая"})["result"]
    row = ok(portal, "crm.deal.get", tok[w], id=did)["result"]
    assert row["CREATED_BY_ID"] == row["MODIFY_BY_ID"] == row["ASSIGNED_BY_ID"] == str(w)


@pytest.mark.parametrize("lvl, who", [
    ("own", ["w"]), ("department", ["w", "c"]), ("subdepartment", ["w", "c", "s"]),
    ("open", ["w", "c", "s", "open"]), ("all", ["w", "c", "s", "open", "closed"]), ("none", None)])
def test_levels_through_the_department_tree(portal, crm, lvl, who):
    w, tok, ids = crm["w"], crm["tok"], crm["ids"]
    portal.set_crm_role(w, {"deal": lvl, "contact": "all"})
    if who is None:                                    # no READ: the legacy list refuses, crm.item.list is empty
        assert rest(portal, "crm.deal.list", tok[w]) == (400, DENIED)
        body = ok(portal, "crm.item.list", tok[w], entityTypeId=2)
        assert body["result"]["items"] == [] and body["total"] == 0
        return
    groups = {"w": ids[w], "c": ids[crm["c"]], "s": ids[crm["s"]], "open": ids[2][10:], "closed": ids[2][:10]}
    want = sorted(i for g in who for i in groups[g])
    assert _all_ids(portal, tok[w]) == (want, len(want))
    assert _all_ids(portal, tok[w], "crm.item.list", entityTypeId=2) == (want, len(want))


def test_per_pipeline_level(portal, crm):
    w, tok = crm["w"], crm["tok"]
    cat = ok(portal, "crm.category.add", crm["admin"], entityTypeId=2, fields={"name": "Монтаж"})["result"]["category"]
    theirs = crm["ids"][crm["c"]][:5]
    for did in theirs:
        ok(portal, "crm.item.update", crm["admin"], entityTypeId=2, id=did, fields={"categoryId": cat["id"]})
    portal.set_crm_role(w, {"deal": "own", f"deal_c{cat['id']}": "all"})
    ids, total = _all_ids(portal, tok[w])
    assert ids == sorted(crm["ids"][w] + theirs) and total == 65
    assert ok(portal, "crm.deal.get", tok[w], id=theirs[0])["result"]["CATEGORY_ID"] == str(cat["id"])
    assert rest(portal, "crm.deal.get", tok[w], id=crm["ids"][crm["c"]][5]) == (400, DENIED)


def test_smart_process_items(portal, crm):
    w, c, tok, admin = crm["w"], crm["c"], crm["tok"], crm["admin"]
    etid = ok(portal, "crm.type.add", admin, fields={"title": "Визит"})["result"]["type"]["entityTypeId"]
    mine = [ok(portal, "crm.item.add", admin, entityTypeId=etid, fields={"title": f"м{i}", "assignedById": w})
            ["result"]["item"]["id"] for i in range(3)]
    theirs = ok(portal, "crm.item.add", admin, entityTypeId=etid, fields={"title": "ч", "assignedById": c})[
        "result"]["item"]["id"]
    portal.set_crm_role(w, {f"dynamic_{etid}": {"READ": "all", "WRITE": "own"}, "deal": "own"})
    assert ok(portal, "crm.item.list", tok[w], entityTypeId=etid)["total"] == 4
    status, body = rest(portal, "crm.item.update", tok[w], entityTypeId=etid, id=theirs, fields={"title": "x"})
    assert (status, body["error"]) == (400, "ACCESS_DENIED")
    got = ok(portal, "crm.item.update", tok[w], entityTypeId=etid, id=mine[0], fields={"title": "готово"})
    assert got["result"]["item"]["updatedBy"] == w
    assert rest(portal, "crm.item.add", tok[w], entityTypeId=etid, fields={"title": "н"})[1]["error"] == "ACCESS_DENIED"
    assert rest(portal, "crm.item.delete", tok[w], entityTypeId=etid, id=mine[1])[1]["error"] == "ACCESS_DENIED"
    portal.set_crm_role(w, {etid: "own"})                             # by entityTypeId; other types: none
    ids, total = _all_ids(portal, tok[w], "crm.item.list", entityTypeId=etid)
    assert ids == mine and total == 3
    assert rest(portal, "crm.item.get", tok[w], entityTypeId=etid, id=theirs)[1]["error"] == "ACCESS_DENIED"


def test_batch_checks_each_command(portal, crm):
    w, c, tok = crm["w"], crm["c"], crm["tok"]
    portal.set_crm_role(w, {"deal": "own", "*": "all"})
    theirs, mine = crm["ids"][c][0], crm["ids"][w][0]
    out = ok(portal, "batch", tok[w], halt=0, cmd={
        "mine": f"crm.deal.get?id={mine}", "theirs": f"crm.deal.get?id={theirs}",
        "upd": f"crm.deal.update?id={theirs}&fields[TITLE]=x", "list": "crm.deal.list?select[]=ID",
        "items": "crm.item.list?entityTypeId=2&select[]=id&start=50"})["result"]
    assert out["result"]["mine"]["ID"] == str(mine)
    assert out["result_error"]["theirs"] == DENIED and out["result_error"]["upd"] == DENIED
    assert out["result_total"]["list"] == 60 and out["result_next"]["list"] == 50
    assert len(out["result"]["items"]["items"]) == 10 and out["result_total"]["items"] == 60
    assert portal.db.deals.get(theirs)["TITLE"] != "x"
    # in one batch the admin and the worker never share cached list results
    assert ok(portal, "batch", crm["admin"], cmd={"a": "crm.deal.list?select[]=ID&start=50"})[
        "result"]["result_total"]["a"] == 120


def test_timeline_comment_on_a_forbidden_deal_refused(portal, crm):
    w, c, tok = crm["w"], crm["c"], crm["tok"]
    portal.set_crm_role(w, {"deal": "own", "*": "all"})
    theirs, mine = crm["ids"][c][0], crm["ids"][w][0]
    status, body = rest(portal, "crm.timeline.comment.add", tok[w], fields={
        "ENTITY_TYPE": "deal", "ENTITY_ID": theirs, "COMMENT": "был на объекте"})
    assert (status, body["error"]) == (400, "ACCESS_DENIED")
    assert len(portal.db.comments) == 0
    cid = ok(portal, "crm.timeline.comment.add", tok[w], fields={
        "ENTITY_TYPE": "deal", "ENTITY_ID": mine, "COMMENT": "был на объекте"})["result"]
    assert ok(portal, "crm.timeline.comment.get", tok[w], id=cid)["result"]["AUTHOR_ID"] == str(w)
    other = ok(portal, "crm.timeline.comment.add", crm["admin"], fields={
        "ENTITY_TYPE": "deal", "ENTITY_ID": theirs, "COMMENT": "клиент перезвонит"})["result"]
    assert [x["ID"] for x in ok(portal, "crm.timeline.comment.list", tok[w])["result"]] == [str(cid)]
    assert rest(portal, "crm.timeline.comment.get", tok[w], id=other) == (400, DENIED)
    status, body = rest(portal, "crm.activity.todo.add", tok[w], ownerTypeId=2, ownerId=theirs,
                        deadline="2026-03-02T10:00:00+03:00", title="перезвонить")
    assert (status, body["error"]) == (400, "ACCESS_DENIED")


def test_findbycomm_gate_and_no_per_item_filter(portal, crm):
    w, tok, admin = crm["w"], crm["tok"], crm["admin"]
    cid = ok(portal, "crm.contact.add", admin, fields={"NAME": "Иван", "ASSIGNED_BY_ID": crm["c"],
                                                        "PHONE": [{"VALUE": "+7 916 123-45-67"}]})["result"]
    portal.set_crm_role(w, {"deal": "own"})                          # no contacts, companies, leads
    assert rest(portal, "crm.duplicate.findbycomm", tok[w], type="PHONE", values=["89161234567"]) == (400, DENIED)
    portal.set_crm_role(w, {"deal": "own", "contact": "own"})
    found = ok(portal, "crm.duplicate.findbycomm", tok[w], type="PHONE", values=["89161234567"])["result"]
    assert found == {"CONTACT": [cid]}                               # the index is not filtered per item…
    assert rest(portal, "crm.contact.get", tok[w], id=cid) == (400, DENIED)    # …reading the contact is


def test_user_who_can_read_nothing_is_refused_every_legacy_crm_method(portal, crm):
    w, tok = crm["w"], crm["tok"]
    portal.set_crm_role(w, {"*": "none"})
    for method in ("crm.deal.fields", "crm.company.list", "crm.contact.userfield.list", "crm.timeline.comment.list"):
        assert rest(portal, method, tok[w]) == (400, DENIED), method


def test_webhook_runs_with_its_users_rights(portal, crm):
    w = crm["w"]
    portal.set_crm_role(w, {"deal": "own", "*": "all"})
    admin_hook = portal.webhook_url
    assert requests.post(admin_hook + "crm.deal.list.json", json={}, timeout=10).json()["total"] == 120
    portal.webhook_user_id = w
    body = requests.post(portal.webhook_url + "crm.deal.list.json", json={}, timeout=10).json()
    assert body["total"] == 60


def test_role_api_and_control_api(portal, crm):
    w = crm["w"]
    base = f"{portal.url}/_sandbox/crm/roles"
    r = requests.put(f"{base}/{w}", json={"deal": "own", "company": {"READ": "all"}}, timeout=10)
    assert r.status_code == 200
    assert r.json()["role"]["DEAL"] == {"READ": "own", "ADD": "own", "WRITE": "own", "DELETE": "own"}
    assert r.json()["role"]["COMPANY"] == {"READ": "all", "ADD": "none", "WRITE": "none", "DELETE": "none"}
    assert portal.crm_role(w) == r.json()["role"]
    assert ok(portal, "crm.deal.list", crm["tok"][w])["total"] == 60
    assert requests.get(base, timeout=10).json()["roles"] == {str(w): r.json()["role"]}
    bad = requests.post(f"{base}/{w}", json={"deal": "mine"}, timeout=10)
    assert bad.status_code == 400 and "mine" in bad.json()["error_description"]
    assert requests.delete(f"{base}/{w}", timeout=10).json() == {"user_id": w, "role": None}
    assert portal.crm_role(w) is None
    assert ok(portal, "crm.deal.list", crm["tok"][w])["total"] == 120
    with pytest.raises(ValueError):
        portal.set_crm_role(w, {"invoice": "all"})
    assert requests.get(base, headers={"Origin": "http://evil.example"}, timeout=10).status_code == 403


def test_admin_ignores_any_role(portal, crm):
    portal.set_crm_role(1, {"*": "none"})
    assert ok(portal, "crm.deal.list", crm["admin"])["total"] == 120


def test_demo_field_worker_sees_only_his_jobs(cloud):
    from b24sandbox import demo

    from .methods_helpers import SCOPES, SECRET

    p = cloud.add_portal(seed="demo")
    cloud.register_app(CID, SECRET, handler_url="http://127.0.0.1:9/app", install_url="http://127.0.0.1:9/i",
                       scope=SCOPES)
    p.install_app(CID)
    p.finish_install(CID)
    p.settings.rate_limit = False
    fw = demo.FIELD_WORKER
    assert p.crm_role(fw)["DEAL"]["READ"] == "own"
    his = sorted(d["ID"] for d in p.db.deals.rows.values() if d["ASSIGNED_BY_ID"] == fw)
    assert his and all(p.db.deals.get(i)["UF_CRM_B24APP_WORKER"] == fw for i in his)
    tok = p.issue_tokens(CID, fw).access.token
    assert _all_ids(p, tok) == (his, len(his))
    other = next(d["ID"] for d in p.db.deals.rows.values() if d["ASSIGNED_BY_ID"] != fw)
    assert rest(p, "crm.deal.update", tok, id=other, fields={"TITLE": "x"}) == (400, DENIED)
    assert ok(p, "crm.company.list", tok)["total"] == 300                        # companies: readable by all
    assert ok(p, "crm.deal.list", p.issue_tokens(CID, 5).access.token)["total"] == 200   # other workers: default


def test_restriction_keeps_the_compiled_id_bounds(portal, crm):
    """The permission is ANDed into the compiled filter, so a ``>ID`` bound still bisects the index."""
    from b24sandbox import perms
    from b24sandbox.filter_compiler import FieldGetter, compile_filter, restrict
    from b24sandbox.registry import CallContext

    portal.set_crm_role(crm["w"], {"deal": "department"})
    ctx = CallContext(portal=portal, auth_kind="oauth", user_id=crm["w"], is_admin=False, client_id=CID,
                      scope=frozenset(["crm"]))
    allowed, key = perms.read_filter(ctx, 2)
    pred = compile_filter({">ID": 70}, FieldGetter)
    both = restrict(pred, allowed)
    assert both.id_bounds == pred.id_bounds == [(">", 70.0)] and key.startswith(f"perm:{crm['w']}:")
    assert restrict(pred, None) is pred
    rows = [r for r in portal.db.deals.rows.values() if both(r)]
    assert [r["ID"] for r in rows] == [i for i in crm["ids"][crm["c"]] if i > 70]
