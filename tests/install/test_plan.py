"""The planner is pure: hand-built portal states in, steps out; nothing is mutated, nothing is called."""
import copy

import pytest

from install.manifest import load
from install.params import uf_camel
from install.plan import Target, make_plan
from install.state import PortalState

T = Target("https://app.example.com", lang="ru", auth_user_id=1)


@pytest.fixture(scope="module")
def manifest():
    return load()


def deal_default():
    return {2: [{"id": 0, "name": "Общая", "isDefault": "Y", "entityTypeId": 2}]}


def spa_stages(etid, cat):
    pre = f"DT{etid}_{cat}:"
    rows = [("NEW", "Начало", None), ("PREPARATION", "Подготовка", None), ("CLIENT", "Согласование", None),
            ("SUCCESS", "Успех", "S"), ("FAIL", "Провал", "F")]
    return [{"ID": 100 + i, "STATUS_ID": pre + s, "NAME": n, "SORT": (i + 1) * 10, "SEMANTICS": sem,
             "COLOR": "#22B9FF"} for i, (s, n, sem) in enumerate(rows)]


def steps_for(plan, prefix):
    return [s for s in plan.steps if s.key == prefix or s.key.startswith(prefix + ".")]


def test_empty_portal_creates_everything_and_blocks_children(manifest):
    state = PortalState(categories=deal_default())
    before = copy.deepcopy(state)
    plan = make_plan(manifest, state, None, T)
    assert state == before
    assert plan.counts()["leave"] == 0 and plan.counts()["create"] > 50
    visit = steps_for(plan, "visit")
    assert visit[0].calls[0][0] == "crm.type.add"
    assert visit[0].calls[0][1]["fields"]["title"] == "Посещение"
    assert visit[0].calls[0][1]["fields"]["relations"]["parent"][0]["entityTypeId"] == 4
    assert all(s.blocked_by == "smart_process:visit" for s in visit[1:])
    methods = {s.calls[0][0] for s in plan.runnable()}
    assert methods == {"crm.type.add", "crm.category.add", "crm.deal.userfield.add", "crm.company.userfield.add",
                       "placement.bind", "event.bind", "bizproc.robot.add"}
    # same input, same plan
    assert make_plan(manifest, state, None, T).render() == plan.render()


def test_deal_field_and_robot_params(manifest):
    plan = make_plan(manifest, PortalState(categories=deal_default()), None, T)
    f = next(s for s in plan.steps if s.key == "deal.field.worker").calls[0]
    assert f == ("crm.deal.userfield.add", f[1])
    assert f[1]["fields"]["FIELD_NAME"] == "B24APP_WORKER" and f[1]["fields"]["USER_TYPE_ID"] == "employee"
    r = next(s for s in plan.steps if s.key == "robot.b24app_create_visit").calls[0][1]
    assert r["HANDLER"] == "https://app.example.com/robots/b24app_create_visit" and r["USE_SUBSCRIPTION"] == "Y"
    assert r["DOCUMENT_TYPE"] == ["crm", "CCrmDocumentCompany", "COMPANY"] and r["AUTH_USER_ID"] == 1
    assert r["PROPERTIES"]["visit_date"] == {"Name": {"ru": "Дата посещения", "en": "Visit date"},
                                             "Type": "datetime", "Required": "Y", "Multiple": "N"}
    p = next(s for s in plan.steps if s.key == "placement.company_visits").calls[0][1]
    assert p["PLACEMENT"] == "CRM_COMPANY_DETAIL_TAB" and p["LANG_ALL"]["en"]["TITLE"] == "Visits"


def test_hand_made_visit_is_adopted_not_duplicated(manifest):
    state = PortalState(
        types=[{"id": 3, "entityTypeId": 130, "title": "Посещение", "code": "", "isStagesEnabled": "Y",
                "isClientEnabled": "N"}],
        categories={**deal_default(), 130: [{"id": 9, "name": "Посещения", "isDefault": "Y"}]},
        stages={"DYNAMIC_130_STAGE_9": spa_stages(130, 9)},
        userfields={"CRM_3": [{"id": 1, "fieldName": "UF_CRM_3_1700000000", "userTypeId": "datetime",
                               "labels": ["Дата посещения"]}]})
    plan = make_plan(manifest, state, None, T)
    visit = steps_for(plan, "visit")
    assert visit[0].action == "update" and "adopted by title" in visit[0].reason
    assert visit[0].calls == [("crm.type.update", {"id": 3, "fields": {
        "isClientEnabled": "Y", "isBeginCloseDatesEnabled": "Y", "isAutomationEnabled": "Y",
        "isBizProcEnabled": "Y", "isUseInUserfieldEnabled": "Y", "isObserversEnabled": "Y"}})]
    assert not any(c[0] == "crm.type.add" for s in visit for c in s.calls)
    # their stages are kept as they are: no renames, no deletions in a pipeline someone else made
    assert not [s for s in visit if s.action == "remove"]
    assert next(s for s in visit if s.key == "visit.stage.draft").action == "leave"
    assert next(s for s in visit if s.key == "visit.stage.done").reason == "DT130_9:SUCCESS by code"
    add = next(s for s in visit if s.key == "visit.stage.in_work").calls[0][1]["fields"]
    assert add["ENTITY_ID"] == "DYNAMIC_130_STAGE_9" and add["STATUS_ID"] == "DT130_9:IN_WORK"
    # their «Дата посещения» field is adopted, ours are named after the crm.type id
    ids = plan.ids["smart_processes"]["visit"]
    assert ids["fieldNames"]["visit_date"] == "UF_CRM_3_1700000000"
    assert ids["fields"]["visit_date"] == "ufCrm3_1700000000"
    new = next(s for s in visit if s.key == "visit.field.region").calls[0][1]["field"]
    assert new["entityId"] == "CRM_3" and new["fieldName"] == "UF_CRM_3_REGION"


def test_pipeline_we_just_made_gets_our_stages(manifest):
    state = PortalState(
        types=[{"id": 1, "entityTypeId": 128, "title": "Посещение", "code": "b24app_visit"}],
        categories={**deal_default(), 128: [{"id": 2, "name": "Посещение", "isDefault": "Y"}]},
        stages={"DYNAMIC_128_STAGE_2": spa_stages(128, 2)})
    rec = {"created": {"smart_process:visit": "pending"}}
    plan = make_plan(manifest, state, rec, T)
    by = {s.key: s for s in steps_for(plan, "visit")}
    assert by["visit.stage.draft"].calls == [("crm.status.update", {"id": 100, "fields": {
        "NAME": "Черновик", "COLOR": "#A5A5A5"}})]
    assert by["visit.stage.preparation"].calls == [("crm.status.delete", {"id": 101})]
    assert by["visit.stage.client"].action == "remove"
    assert by["visit.stage.done"].action == "update"            # SUCCESS renamed and re-sorted
    assert plan.ids["smart_processes"]["visit"]["stages"]["failed"] == "DT128_2:FAIL"


def test_recorded_stage_survives_admin_rename(manifest):
    rows = spa_stages(128, 2)
    rows[1]["NAME"] = "Переименовано админом"                   # PREPARATION recorded as our in_work
    state = PortalState(types=[{"id": 1, "entityTypeId": 128, "title": "Visit", "code": "b24app_visit"}],
                        categories={**deal_default(), 128: [{"id": 2, "name": "x", "isDefault": "Y"}]},
                        stages={"DYNAMIC_128_STAGE_2": rows})
    rec = {"smart_processes": {"visit": {"typeId": 1, "stages": {"in_work": "DT128_2:PREPARATION"}}},
           "created": {"smart_process:visit": "done"}}
    plan = make_plan(manifest, state, rec, T)
    s = next(s for s in plan.steps if s.key == "visit.stage.in_work")
    assert s.action == "leave" and s.reason == "DT128_2:PREPARATION by recorded"


def test_dropped_placement_and_robot_are_removed_changed_robot_updated(manifest):
    first = make_plan(manifest, PortalState(categories=deal_default()), None, T)
    rb = next(s for s in first.steps if s.key == "robot.b24app_start_job").calls[0][1]
    rec = {"placements": [{"key": "old", "placement": "CRM_LEAD_DETAIL_TAB", "handler": "https://app.example.com/x"}],
           "robots": {"b24app_old_robot": "abc", "b24app_start_job": "stale", "b24app_finish_job":
                      first.ids["robots"]["b24app_finish_job"]}}
    state = PortalState(categories=deal_default(),
                        placements=[{"placement": "CRM_LEAD_DETAIL_TAB", "handler": "https://app.example.com/x",
                                     "title": "Old"}],
                        robots=["b24app_old_robot", "b24app_start_job", "b24app_finish_job"])
    plan = make_plan(manifest, state, rec, T)
    by = {s.key: s for s in plan.steps}
    assert by["placement.old"].calls == [("placement.unbind", {"PLACEMENT": "CRM_LEAD_DETAIL_TAB",
                                                                "HANDLER": "https://app.example.com/x"})]
    assert by["robot.b24app_old_robot"].calls == [("bizproc.robot.delete", {"CODE": "b24app_old_robot"})]
    upd = by["robot.b24app_start_job"].calls[0]
    assert upd[0] == "bizproc.robot.update" and upd[1]["FIELDS"]["HANDLER"] == rb["HANDLER"]
    assert by["robot.b24app_finish_job"].action == "leave"


@pytest.mark.parametrize("name,camel", [("UF_CRM_7_MY_FIELD", "ufCrm7MyField"),
                                        ("UF_CRM_2_1639669411830", "ufCrm2_1639669411830"),
                                        ("UF_CRM_1640042314192", "ufCrm_1640042314192"),
                                        ("UF_CRM_B24APP_WORKER", "ufCrm_B24APP_WORKER"),
                                        ("UF_CRM_MANAGER_NOTE", "ufCrmManagerNote")])
def test_uf_camel(name, camel):
    assert uf_camel(name) == camel
