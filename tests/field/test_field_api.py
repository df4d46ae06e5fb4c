"""The worker's phone over HTTP against the sandbox portal: his day in route order with navigation links;
a whole job (on my way → client or manager told, started → stage + task in progress, photo as a file,
finished → stage, elapsed time on the task, task completed, minutes); scoping (another worker's job or day:
403), bad input (400, nothing written), and replays applied exactly once."""
from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from field.ledger import FieldLedger

from .conftest import JPEG, MANAGER, OTHER, WORKER


def _id() -> str:
    return uuid.uuid4().hex


def _act(f, token, action, item, **extra):
    body = {"id": extra.pop("id", None) or _id(), "action": action, "kind": "job", "item": item,
            "at": f.now().isoformat(), **extra}
    return f.post(token, body), body


def test_his_day_in_route_order_with_links(fieldday):
    f = fieldday
    r = f.get_day(f.session())
    assert r.status_code == 200, r.text
    day = r.json()
    mine = [i for i in day["items"] if i["kind"] == "job" and i["id"] in {d for d, _ in f.jobs}]
    assert [i["id"] for i in mine] == [d for d, _ in f.jobs]                   # 10:00 before 13:00
    assert f.other_job not in {i["id"] for i in day["items"]}                  # another worker's job: not here
    first = mine[0]
    assert first["time"] == "10:00" and first["status"] == "planned" and day["date"] == "2026-01-14"
    assert first["links"]["yandex"].startswith("https://yandex.ru/maps/?rtext=~55.75,37.61")
    assert first["links"]["navigator"] == "yandexnavi://build_route_on_map?lat_to=55.75&lon_to=37.61"
    assert first["links"]["google"].startswith("https://www.google.com/maps/dir/?api=1&destination=55.75,37.61")
    assert day["route"]["yandex"] and day["route"]["google"]
    starts = [i["start"] for i in day["items"] if i["start"]]
    assert starts == sorted(starts)


def test_a_whole_job_applied_once_each(fieldday):
    f = fieldday
    tok = f.session()
    deal, task = f.jobs[0]
    r, on_way = _act(f, tok, "on_way", deal)
    assert r.status_code == 200 and r.json()["state"] == "applied", r.text
    assert r.json()["steps"]["notify"]["channel"] == "manager"                 # no client chat: the manager
    note = [n for n in f.portal.db.notifications.rows.values() if n["USER_ID"] == MANAGER]
    assert len(note) == 1 and "выехал" in note[0]["MESSAGE"]
    f.advance(35)
    r, _ = _act(f, tok, "started", deal)
    assert r.status_code == 200, r.text
    assert r.json()["job"] == {"status": "started", "travel_minutes": 35, "on_site_minutes": None}
    assert f.stage_key(deal) == "job_started"
    t = f.task(task)
    assert t["STATUS"] == 3 and t["DATE_START"] and t["ALLOW_TIME_TRACKING"] == "Y"   # task time tracking on
    r, photo = _act(f, tok, "photo", deal, file={"name": "замер.jpg", "content": base64.b64encode(JPEG).decode()})
    assert r.status_code == 200, r.text
    files = f.files(deal)
    assert [(x["name"], x["content"]) for x in files] == [("замер.jpg", JPEG)]   # a file with its bytes, not a link
    f.advance(50)
    r, _ = _act(f, tok, "finished", deal)
    assert r.status_code == 200, r.text
    assert r.json()["job"] == {"status": "finished", "travel_minutes": 35, "on_site_minutes": 50}
    assert f.stage_key(deal) == "job_done"
    assert [(e["USER_ID"], e["SECONDS"]) for e in f.elapsed(task)] == [(WORKER, 3000)]
    assert f.task(task)["STATUS"] == 5
    from maps import mapstate
    facts = {x["deal_id"]: x for x in mapstate.job_facts(f.services.store.engine, f.member_id)}
    assert facts[deal]["travel_minutes"] == 35 and facts[deal]["actual_minutes"] == 50   # the dashboards' figures
    # replays of every step (a phone that lost the answers): nothing reaches the portal again
    before = len(f.portal.log)
    for body in (on_way, photo):
        again = f.post(tok, body)
        assert again.status_code == 200 and again.json()["state"] == "replayed"
    assert len(f.portal.log) == before
    assert len(f.files(deal)) == 1 and len(f.elapsed(task)) == 1
    assert len([n for n in f.portal.db.notifications.rows.values() if n["USER_ID"] == MANAGER]) == 1
    rows = FieldLedger(f.services.store.engine, f.member_id).actions(worker_id=WORKER)
    assert sorted(a["action"] for a in rows) == ["finished", "on_way", "photo", "started"]      # one row each
    assert all(a["status"] == "done" for a in rows)
    day = {i["id"]: i for i in f.get_day(tok).json()["items"]}
    assert day[deal]["status"] == "finished" and day[deal]["files"] == 1 and day[deal]["on_site_minutes"] == 50


def test_on_my_way_goes_to_the_clients_chat_when_there_is_one(fieldday):
    f = fieldday
    deal, _ = f.jobs[1]
    chat = f.portal.db.openline_chats.insert({"CRM_ENTITY_TYPE": "deal", "CRM_ENTITY": deal, "MESSAGES": []})
    r, _ = _act(f, f.session(), "on_way", deal)
    assert r.status_code == 200 and r.json()["steps"]["notify"]["channel"] == "client", r.text
    msgs = f.portal.db.openline_chats.get(chat)["MESSAGES"]
    assert len(msgs) == 1 and msgs[0]["USER_ID"] == WORKER and "выехал" in msgs[0]["MESSAGE"]
    assert not [n for n in f.portal.db.notifications.rows.values() if n["USER_ID"] == MANAGER]


def test_another_workers_job_or_day_is_refused(fieldday):
    f = fieldday
    tok = f.session()
    before = (dict(f.deal(f.other_job)), len(f.portal.db.comments))
    for action in ("started", "comment"):
        r, _ = _act(f, tok, action, f.other_job, comment="чужой")
        assert r.status_code == 403 and r.json()["error"] == "NOT_YOUR_JOB", r.text
        assert "другому" in r.json()["error_description"]
    assert (f.deal(f.other_job), len(f.portal.db.comments)) == before
    assert FieldLedger(f.services.store.engine, f.member_id).actions() == []           # nothing written
    r = f.get_day(tok, worker=OTHER)
    assert r.status_code == 403 and r.json()["error"] == "ROLE_REQUIRED"
    r = f.get_day(f.session(user_id=2, roles=("dispatcher",)), worker=OTHER)         # a dispatcher may look
    assert r.status_code == 200 and f.other_job in {i["id"] for i in r.json()["items"]}
    assert f.post("not-a-session", {"id": _id()}).status_code == 401


def test_bad_input_is_400_and_writes_nothing(fieldday):
    f = fieldday
    tok, deal = f.session(lang="en"), f.jobs[0][0]
    ok = {"id": _id(), "action": "started", "kind": "job", "item": deal}
    bad = [
        ([1, 2], "JSON object"),
        ({**ok, "id": "short"}, "'id'"),
        ({**ok, "action": "teleport"}, "'action'"),
        ({**ok, "kind": "rocket"}, "'kind'"),
        ({**ok, "item": "abc"}, "'item'"),
        ({**ok, "item": -3}, "'item'"),
        ({**ok, "at": "yesterday"}, "'at'"),
        ({**ok, "at": "2026-01-14T10:00:00"}, "UTC offset"),
        ({**ok, "at": (f.now() + timedelta(hours=3)).isoformat()}, "phone's clock"),
        ({**ok, "lat": 55.7}, "'lat' and 'lon'"),
        ({**ok, "lat": 95, "lon": 37}, "'lat'/'lon'"),
        ({**ok, "action": "comment", "comment": "  "}, "empty"),
        ({**ok, "action": "photo"}, "'file'"),
        ({**ok, "action": "photo", "file": {"name": "a.jpg", "content": "@@@"}}, "base64"),
        ({**ok, "action": "photo", "file": {"name": "a.txt", "content": base64.b64encode(b"hello").decode()}},
         "not a picture"),
        ({**ok, "kind": "visit", "action": "started"}, "no action"),
    ]
    for body, words in bad:
        r = f.post(tok, body)
        assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST", (body, r.text)
        assert words in r.json()["error_description"], (words, r.json())
    big = base64.b64encode(JPEG + b"\0" * (5 * 2**19)).decode()          # 2.5 MB: within a request, over the limit
    r = f.post(tok, {**ok, "action": "photo", "file": {"name": "big.jpg", "content": big}})
    assert r.status_code == 413 and r.json()["error"] == "FILE_TOO_LARGE"
    r = f.post(f.session(), {**ok, "action": "teleport"})
    assert "одно из" in r.json()["error_description"]                          # said in the person's language
    assert FieldLedger(f.services.store.engine, f.member_id).actions() == []
    assert f.stage_key(deal) == "scheduled" and f.files(deal) == []


def test_an_id_reused_for_another_action_is_refused(fieldday):
    f = fieldday
    tok, (deal, _) = f.session(), f.jobs[0]
    r, body = _act(f, tok, "comment", deal, comment="первый")
    assert r.status_code == 200, r.text
    r = f.post(tok, {**body, "comment": "другой"})
    assert r.status_code == 409 and r.json()["error"] == "ACTION_ID_REUSED"
    assert f.comments(deal) == ["Комментарий с выезда:\nпервый"]


def test_a_retry_after_a_refused_step_does_only_the_rest(fieldday):
    """The portal moved the deal but refused the task: the phone keeps the action and sends it again; the
    deal is not written twice, the task is started once."""
    f = fieldday
    tok, (deal, task) = f.session(), f.jobs[0]
    f.portal.faults.fail_method("tasks.task.start", "INTERNAL_SERVER_ERROR", "try later", 500, times=1)
    r, body = _act(f, tok, "started", deal)
    assert r.status_code == 502 and f.stage_key(deal) == "job_started" and f.task(task)["STATUS"] != 3
    row = FieldLedger(f.services.store.engine, f.member_id).get(body["id"])
    assert row["status"] == "failed" and set(row["steps"]) == {"stage"}
    updates = f.calls("crm.deal.update")
    again = f.post(tok, body)
    assert again.status_code == 200 and again.json()["state"] == "applied", again.text
    assert f.calls("crm.deal.update") == updates and f.task(task)["STATUS"] == 3
    assert f.calls("tasks.task.start") == 1
    assert f.post(tok, body).json()["state"] == "replayed" and f.calls("tasks.task.start") == 1


def test_two_copies_at_once_apply_once(fieldday):
    """The queue flushed from two tabs at the same moment: one copy applies, the other waits or replays."""
    from concurrent.futures import ThreadPoolExecutor

    f = fieldday
    tok, (deal, _) = f.session(), f.jobs[1]
    body = {"id": _id(), "action": "comment", "kind": "job", "item": deal, "comment": "двойной"}
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: f.post(tok, body), range(4)))
    assert all(r.status_code in (200, 409) for r in answers), [r.text for r in answers]
    assert [r.json()["state"] for r in answers if r.status_code == 200].count("applied") == 1
    assert all(r.json()["error"] == "ACTION_IN_PROGRESS" for r in answers if r.status_code == 409)
    assert f.comments(deal) == ["Комментарий с выезда:\nдвойной"]
    assert len(FieldLedger(f.services.store.engine, f.member_id).actions(item_id=deal)) == 1


def test_check_in_and_out_record_the_position_when_given(fieldday):
    f = fieldday
    tok, (deal, _) = f.session(), f.jobs[1]
    r, _ = _act(f, tok, "check_in", deal, lat=55.751244, lon=37.618423)
    assert r.status_code == 200, r.text
    f.advance(40)
    r, _ = _act(f, tok, "check_out", deal)                                   # the phone gave no position
    assert r.status_code == 200, r.text
    notes = f.comments(deal)
    assert len(notes) == 2
    assert notes[0].startswith("Отметка: на месте 09:00 (55.751244, 37.618423 — https://yandex.ru/maps/?pt=37.618423")
    assert notes[1] == "Отметка: ушёл с объекта 09:40 (телефон не дал координаты)"
    rows = {a["action"]: a for a in FieldLedger(f.services.store.engine, f.member_id).actions(item_id=deal)}
    assert (rows["check_in"]["lat"], rows["check_in"]["lon"]) == (55.751244, 37.618423)
    assert rows["check_out"]["lat"] is None
    job = FieldLedger(f.services.store.engine, f.member_id).job("job", deal)
    assert (job["checked_out_at"] - job["checked_in_at"]).total_seconds() == 40 * 60
    assert {i["id"]: i for i in f.get_day(tok).json()["items"]}[deal]["checked_in"] is True


def test_a_visit_of_the_day(fieldday):
    """A sales rep's visit is an item of his day too: on my way reaches the company's chat, check-in and a
    photo land on the visit's timeline; a job's steps (started) are not offered for it."""
    from install.registry import installed_ids
    from visits.create import create_visit

    f = fieldday
    ids = installed_ids(f.live.store, f.member_id)
    company = sorted(f.portal.db.companies.rows)[0]
    f.services.client(f.member_id).call("crm.company.update", {"id": company, "fields": {
        ids.company_field("coordinates"): "55.70,37.50"}})
    visit = int(create_visit(f.services, f.member_id, company, "2026-01-14T11:30", responsible=WORKER,
                             sync_calendar=False)["id"])
    chat = f.portal.db.openline_chats.insert({"CRM_ENTITY_TYPE": "company", "CRM_ENTITY": company, "MESSAGES": []})
    tok = f.session()
    items = {i["key"]: i for i in f.get_day(tok).json()["items"]}
    v = items[f"visit:{visit}"]
    assert v["time"] == "11:30" and "started" not in v["actions"] and v["links"]["navigator"].endswith("lon_to=37.5")
    keys = list(items)
    assert keys.index(f"job:{f.jobs[0][0]}") < keys.index(f"visit:{visit}") < keys.index(f"job:{f.jobs[1][0]}")
    body = {"id": _id(), "action": "on_way", "kind": "visit", "item": visit}
    r = f.post(tok, body)
    assert r.status_code == 200 and r.json()["steps"]["notify"]["channel"] == "client", r.text
    assert len(f.portal.db.openline_chats.get(chat)["MESSAGES"]) == 1
    r = f.post(tok, {"id": _id(), "action": "check_in", "kind": "visit", "item": visit, "lat": 55.7, "lon": 37.5})
    assert r.status_code == 200, r.text
    r = f.post(tok, {"id": _id(), "action": "photo", "kind": "visit", "item": visit,
                     "file": {"name": "витрина.jpg", "content": base64.b64encode(JPEG).decode()}})
    assert r.status_code == 200, r.text
    etid = ids.smart_process("visit").entity_type_id
    on_visit = [c for c in f.portal.db.comments.rows.values()
                if c["ENTITY_TYPE"] == f"dynamic_{etid}" and int(c["ENTITY_ID"]) == visit]
    assert len(on_visit) == 2 and [x["content"] for c in on_visit for x in c.get("FILES") or []] == [JPEG]
    r = f.post(tok, {"id": _id(), "action": "started", "kind": "visit", "item": visit})
    assert r.status_code == 400
    other = int(create_visit(f.services, f.member_id, company, "2026-01-14T12:00", responsible=OTHER,
                             sync_calendar=False)["id"])
    r = f.post(tok, {"id": _id(), "action": "check_in", "kind": "visit", "item": other})
    assert r.status_code == 403 and r.json()["error"] == "NOT_YOUR_JOB"
