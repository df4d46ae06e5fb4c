"""The installer against the sandbox portal: empty portal → everything; second run → no creates;
a hand-made «Посещение» adopted; a 503 storm or a dropped connection mid-install → retry → complete."""
from __future__ import annotations

from collections import Counter

from b24app.inbox import Worker
from install.apply import KV_KEY, dry_run, install
from install.manifest import load
from install.registry import installed_ids

from .conftest import calls, creates


def _types(portal, title):
    return [t for t in portal.db.types.rows.values() if t["title"] == title]


def test_empty_portal_gets_everything_second_run_creates_nothing(app_env, portal):
    services, mid = app_env, portal.member_id
    m = load()
    mark = len(portal.log)
    report = install(services, mid)
    assert report.complete, report.errors
    assert not report.errors
    made = Counter(creates(portal, mark))
    assert made["crm.type.add"] == 4
    assert made["crm.category.add"] == len(m.pipelines) == 9
    assert made["placement.bind"] == len(m.placements)
    assert made["bizproc.robot.add"] == len(m.robots)
    # every user field once: smart-process fields through userfieldconfig.add, deal/company ones through
    # crm.<entity>.userfield.add (an empty portal has none of them)
    sp_fields = sum(len(sp["fields"]) for sp in m.smart_processes)
    assert made["userfieldconfig.add"] == sp_fields, made
    for entity, fields in m.fields.items():
        assert made[f"crm.{entity}.userfield.add"] == len(fields), (entity, made)
    # domain events are queued by the portal (offline); the ping and the uninstall come to /events
    mine = [b for b in portal.events.bindings if b.client_id == "local.b24apptest0000000.00000001"]
    offline = sorted(b.event for b in mine if b.offline)
    assert offline == sorted(e["event"] for e in m.events if e.get("mode") == "offline")
    assert "ONCRMDEALUPDATE" in offline and "ONCALENDARENTRYUPDATE" in offline
    online = {b.event: b for b in mine if not b.offline}
    assert online["ONAPPUNINSTALL"].handler.endswith("/events")
    assert online["ONOFFLINEEVENT"].handler.endswith("/events")
    assert int(online["ONOFFLINEEVENT"].options["minTimeout"]) == 1
    ids = installed_ids(services.store, mid)
    visit = ids.smart_process("visit")
    t = portal.db.type_by_entity_type_id(visit.entity_type_id)
    assert t["title"] == "Посещение"
    stages = [s["STATUS_ID"] for s in portal.db.stages(f"DYNAMIC_{visit.entity_type_id}_STAGE_{visit.category_id}")]
    assert stages == [visit.stage(k) for k in ("draft", "in_work", "repeat_visit", "overdue", "done", "failed")]
    names = [s["NAME"] for s in portal.db.stages(f"DYNAMIC_{visit.entity_type_id}_STAGE_{visit.category_id}")]
    assert names == ["Черновик", "Взял в работу", "Повторный визит", "Просрочено", "Визит проведен",
                     "Визит не состоялся"]
    assert visit.field("visit_date") == f"ufCrm{visit.type_id}VisitDate"
    inst = ids.pipeline("installation")
    assert inst.stage("job_started") == f"C{inst.category_id}:JOB_STARTED"
    assert ids.stage("measurements", "job_started").endswith(":JOB_STARTED")
    assert ids.deal_field("worker") == "UF_CRM_B24APP_WORKER"
    assert ids.complete and ids.version == m.version

    mark = len(portal.log)
    again = install(services, mid)
    assert again.complete and again.rounds == 0
    assert creates(portal, mark) == []
    assert "event.bind" not in calls(portal, mark)                  # offline rows are recognised too
    assert not [c for c in calls(portal, mark) if c.endswith((".update", ".delete", ".unbind"))]
    assert services.store.kv.get(mid, KV_KEY) == ids.data
    assert dry_run(services, mid).complete


def test_hand_made_visit_is_adopted(app_env, portal):
    from b24sandbox.methods.crm_types import create_type

    hand = create_type(portal.db, {"title": "Посещение", "isClientEnabled": "N"}, 1, "2025-01-01T00:00:00+03:00")
    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    assert len(_types(portal, "Посещение")) == 1
    visit = installed_ids(app_env.store, portal.member_id).smart_process("visit")
    assert visit.type_id == hand["id"] and visit.entity_type_id == hand["entityTypeId"]
    assert portal.db.types.get(hand["id"])["isClientEnabled"] == "Y"
    # the admin's default stages stay; ours are added
    sids = [s["STATUS_ID"] for s in portal.db.stages(f"DYNAMIC_{visit.entity_type_id}_STAGE_{visit.category_id}")]
    assert any(s.endswith(":PREPARATION") for s in sids)
    assert visit.stage("overdue") in sids


def test_storm_mid_install_then_retry_completes(app_env, portal, monkeypatch):
    """A 503 storm starts once the first crm.type.add has run and lasts longer than the client's tries:
    the first run ends incomplete; the retry (the storm's tail absorbed by the client) completes with no
    duplicates."""
    tries = 3
    app_env.client_options["max_tries"] = tries
    original, started = portal.faults.take_storm, []

    def storm_after_the_first_create():
        if not started and any(r.method == "crm.type.add" for r in portal.log):
            started.append(len(portal.log))
            portal.faults.storm(tries + 2)
        return original()
    monkeypatch.setattr(portal.faults, "take_storm", storm_after_the_first_create)
    first = install(app_env, portal.member_id, max_rounds=2)
    assert started, "the storm never started"
    assert not first.complete and any("QUERY_LIMIT_EXCEEDED" in e for e in first.errors), first.errors
    refused = [r for r in portal.log[started[0]:] if r.status == 503]
    assert len(refused) >= tries and all(r.error == "QUERY_LIMIT_EXCEEDED" for r in refused)
    assert not installed_ids(app_env.store, portal.member_id).complete
    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    assert len([r for r in portal.log[started[0]:] if r.status == 503]) == tries + 2    # the whole storm
    assert portal.faults.state()["storm"] == 0
    for title in ("Посещение", "Расчет", "Работа"):
        assert len(_types(portal, title)) == 1, title
    assert len([c for c in portal.db.categories.rows.values() if c["name"] == "Монтаж"]) == 1
    made = Counter(m for m in creates(portal) if m in ("crm.type.add", "crm.category.add", "bizproc.robot.add"))
    assert made == {"crm.type.add": 4, "crm.category.add": len(load().pipelines),
                    "bizproc.robot.add": len(load().robots)}, made
    visit = installed_ids(app_env.store, portal.member_id).smart_process("visit")
    sids = [s["STATUS_ID"] for s in portal.db.stages(f"DYNAMIC_{visit.entity_type_id}_STAGE_{visit.category_id}")]
    assert len(sids) == len(set(sids)) == len(load().smart_process("visit")["stages"])


def test_dropped_connection_mid_install_then_retry_completes(app_env, portal):
    """The connection drops after the portal ran the first create batch: we never saw the answer."""
    original = portal.faults.take_drop
    dropped = []

    def drop_the_first_write_batch():
        if not dropped and any(r.method == "crm.type.add" for r in portal.log):
            dropped.append(True)
            return True
        return False
    portal.faults.take_drop = drop_the_first_write_batch
    try:
        first = install(app_env, portal.member_id, max_rounds=1)
    finally:
        portal.faults.take_drop = original
    assert not first.complete and first.errors
    assert len(_types(portal, "Посещение")) == 1                # it ran although we got no answer
    report = install(app_env, portal.member_id)
    assert report.complete, report.errors
    assert len(_types(portal, "Посещение")) == 1
    assert len(_types(portal, "Расчет")) == 1
    assert len([c for c in portal.db.categories.rows.values() if c["name"] == "Замеры"]) == 1
    mine = sorted(code for client, code in portal.db.robots if client == app_env.settings.client_id)
    assert mine == sorted(r["code"] for r in load().robots)               # every robot registered
    added = Counter(r.params.get("CODE") for r in portal.log if r.method == "bizproc.robot.add" and not r.error)
    assert set(added.values()) == {1}, added                             # and added once, never re-added
    visit = installed_ids(app_env.store, portal.member_id).smart_process("visit")
    names = [s["NAME"] for s in portal.db.stages(f"DYNAMIC_{visit.entity_type_id}_STAGE_{visit.category_id}")]
    assert names[0] == "Черновик" and "Подготовка" not in names     # still treated as ours: pending intent


def test_upgrade_adds_only_what_is_new(app_env, portal):
    import copy

    from install.manifest import validate

    full = load()
    old = copy.deepcopy(full.data)
    old["version"] = 1
    old["smart_processes"][0]["fields"] = [f for f in old["smart_processes"][0]["fields"] if f["key"] != "region"]
    old["robots"] = [r for r in old["robots"] if r["code"] != "b24app_check_paid"]
    assert install(app_env, portal.member_id, validate(old)).complete
    new = copy.deepcopy(full.data)
    new["version"] = 2
    mark = len(portal.log)
    report = install(app_env, portal.member_id, validate(new))
    assert report.complete, report.errors
    assert sorted(creates(portal, mark)) == ["bizproc.robot.add", "userfieldconfig.add"]
    ids = installed_ids(app_env.store, portal.member_id)
    assert ids.version == 2 and ids.smart_process("visit").field("region").endswith("Region")


def test_install_handler_runs_the_installer(app_env, portal, monkeypatch):
    """The post-install hook: the portal's ONAPPINSTALL reaches the app, which installs app.json."""
    from b24app import install_flow
    from install.apply import install_or_raise
    from tests.registries import with_installer

    app_env.registry = with_installer(install_or_raise)
    result = portal.install_app("local.b24apptest0000000.00000001", mode="event")
    assert result["status"] == 200, result
    # the POST only queued the job; the worker runs it and records its progress
    assert install_flow.progress_of(app_env.store, portal.member_id)["state"] == "queued"
    assert app_env.store.kv.get(portal.member_id, KV_KEY) is None
    seen = []
    app_env.registry = with_installer(lambda s, m, progress: install_or_raise(
        s, m, progress=lambda d, t, step: (seen.append((d, t, step)), progress(d, t, step))))
    worker = Worker(app_env)
    while worker.run_once():
        pass
    cur = install_flow.progress_of(app_env.store, portal.member_id)
    assert cur["state"] == "done" and cur["errors"] == [] and cur["done"] == cur["total"] > 0, cur
    assert installed_ids(app_env.store, portal.member_id).complete
    assert seen[0][:2] == (0, 0) and seen[-1][2] == "complete"
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)          # never goes backwards
    assert app_env.store.kv.get(portal.member_id, "inbox.offline_mode") == "confirm"
    assert len(_types(portal, "Посещение")) == 1
