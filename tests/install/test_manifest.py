"""app.json against install/schema.json and the cross-checks: the real manifest passes, broken ones
fail with the JSON path of each problem."""
import copy
import json

import pytest

from install.manifest import MANIFEST_PATH, ManifestError, load, validate


@pytest.fixture
def data():
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def errors_of(data) -> list[str]:
    with pytest.raises(ManifestError) as exc:
        validate(data)
    return exc.value.errors


def test_app_json_is_valid():
    m = load()
    assert m.version >= 1
    assert {sp["key"] for sp in m.smart_processes} >= {"visit", "calculation", "work", "equipment"}
    assert {p["key"] for p in m.pipelines} >= {"measurements", "production", "installation"}


def test_mission_declarations(data):
    m = validate(data)
    visit = m.smart_process("visit")
    assert visit["title"] == {"ru": "Посещение", "en": "Visit"}
    assert [s["name"]["en"] for s in visit["stages"][:4]] == ["Draft", "In work", "Repeat visit", "Overdue"]
    assert {s["semantics"] for s in visit["stages"][4:]} == {"success", "failure"}
    assert {f["key"] for f in visit["fields"]} == {"visit_date", "visit_type", "purpose", "result", "company", "region"}
    assert {f["key"] for f in m.smart_process("equipment")["fields"]} >= {
        "model", "serial", "purchase_date", "warranty_end", "warranty_hours", "hours_used", "owner_company"}
    for key in ("calculation", "work"):
        assert "deal" in m.smart_process(key)["relations"]["parent"]
    assert any(s["name"]["en"] == "Measurement started" for s in m.pipeline("measurements")["stages"])
    assert {f["key"] for f in m.fields["deal"]} >= {"order_1c_number", "order_1c_key", "amount_paid", "paid_in_full",
                                                     "job_at", "job_duration", "worker", "coordinates"}
    codes = {p["placement"] for p in m.placements}
    assert {"LEFT_MENU", "CRM_DEAL_DETAIL_TAB", "CRM_COMPANY_DETAIL_TAB", "CRM_ANALYTICS_MENU"} <= codes
    assert {p["key"] for p in m.placements} >= {"orders_map", "orders_map_deal", "company_visits", "visit_calendar",
                                                 "dispatcher", "dashboards"}
    assert {r["code"] for r in m.robots} == {
        "b24app_start_job", "b24app_finish_job", "b24app_create_visit", "b24app_assign_nearest_worker",
        "b24app_send_to_calculation", "b24app_order_work", "b24app_sync_payments_now", "b24app_check_paid",
        "b24app_calc_take", "b24app_calc_answer", "b24app_calc_done", "b24app_calc_choose", "b24app_work_accept",
        "b24app_work_finish"}


def test_missing_required_key_names_the_path(data):
    del data["smart_processes"][0]["title"]["en"]
    errs = errors_of(data)
    assert any(e.startswith("$.smart_processes[0].title:") and "'en' is a required property" in e for e in errs)


def test_wrong_enum_value_names_the_path(data):
    data["pipelines"][1]["stages"][2]["semantics"] = "sucess"
    errs = errors_of(data)
    assert any(e.startswith("$.pipelines[1].stages[2].semantics:") and "sucess" in e for e in errs)


def test_unknown_key_is_rejected(data):
    data["robots"][0]["handlr"] = "/robots"
    assert any("$.robots[0]" in e and "handlr" in e for e in errors_of(data))


def test_bad_robot_property_type(data):
    data["robots"][2]["properties"]["visit_date"]["type"] = "timestamp"
    assert any(e.startswith("$.robots[2].properties.visit_date.type:") for e in errors_of(data))


def test_select_without_options(data):
    del data["robots"][2]["properties"]["visit_type"]["options"]
    assert any("$.robots[2].properties.visit_type" in e and "options" in e for e in errors_of(data))


def test_duplicate_stage_key(data):
    stages = data["smart_processes"][0]["stages"]
    stages[1]["key"] = stages[0]["key"]
    assert any(e.startswith("$.smart_processes[0].stages[1].key: duplicate key") for e in errors_of(data))


def test_two_success_stages(data):
    data["pipelines"][0]["stages"][4]["semantics"] = "success"
    errs = errors_of(data)
    assert any(e.startswith("$.pipelines[0].stages: needs exactly one stage with semantics 'success'") for e in errs)


def test_unknown_relation_and_document_type(data):
    data["smart_processes"][1]["relations"]["parent"] = ["dael"]
    data["robots"][0]["document_type"] = "vist"
    errs = errors_of(data)
    assert any(e.startswith("$.smart_processes[1].relations.parent[0]: unknown entity 'dael'") for e in errs)
    assert any(e.startswith("$.robots[0].document_type: unknown document type 'vist'") for e in errs)


def test_placement_template_must_name_a_smart_process(data):
    d = copy.deepcopy(data)
    d["placements"][0]["placement"] = "CRM_DYNAMIC_{visit}_DETAIL_TAB"
    validate(d)
    data["placements"][0]["placement"] = "CRM_DYNAMIC_{visits}_DETAIL_TAB"
    assert any("{visits} is not a smart process key" in e for e in errors_of(data))


def test_duplicate_placement_binding(data):
    data["placements"][1]["placement"] = "LEFT_MENU"
    assert any("Handler already binded" in e for e in errors_of(data))


def test_not_json(tmp_path):
    p = tmp_path / "app.json"
    p.write_text("{\"name\": ", encoding="utf-8")
    with pytest.raises(ManifestError) as exc:
        load(p)
    assert "not JSON" in str(exc.value) and "line 1" in str(exc.value)
