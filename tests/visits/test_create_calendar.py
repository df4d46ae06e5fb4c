"""Creation fills the company's manager and region; the manager's calendar follows the visit (created,
moved with the date, moved to a new manager, removed with the visit) through the portal's events."""
from __future__ import annotations

import pytest

from visits import create as vcreate
from visits.ledger import VisitsLedger


def _events(portal, owner=None):
    return [e for e in portal.db.calendar_events.rows.values() if owner is None or e["OWNER_ID"] == owner]

def test_create_fills_manager_region_and_the_calendar(visits):
    from install.registry import installed_ids

    svc, mid, v = visits.services, visits.member_id, visits.v
    company = visits.company(10)
    region_field = installed_ids(visits.live.store, mid).company_field("region")
    visits.client.call("crm.company.update", {"id": company["ID"], "fields": {region_field: "Москва-Север"}})
    item = vcreate.create_visit(svc, mid, company["ID"], "2026-01-05T10:30", "training", "Показать новинки")
    assert item["stageId"] == v.stage("draft") and item["companyId"] == company["ID"]
    assert item["parentId4"] == company["ID"]
    assert item["assignedById"] == int(company["ASSIGNED_BY_ID"])
    assert item[v.field("region")] == "Москва-Север"
    assert item[v.field("visit_type")] == v.enum_id("visit_type", "training")
    owner = int(company["ASSIGNED_BY_ID"])
    events = _events(visits.portal, owner)
    assert len(events) == 1 and events[0]["DATE_FROM"].startswith("2026-01-05T10:30")
    assert events[0]["CRM_FIELDS"] == [f"T{v.entity_type_id:x}_{item['id']}"]
    link = VisitsLedger(visits.live.store.engine, mid).event_of(item["id"])
    assert link["event_id"] == events[0]["ID"]

    visits.run_events()                                   # ONCRMDYNAMICITEMADD: already in step
    assert len(_events(visits.portal)) == 1

    # the date moves in the portal → the event moves
    visits.client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": item["id"],
                                           "fields": {v.field("visit_date"): "2026-01-07T12:00:00+03:00"}})
    visits.run_events()
    events = _events(visits.portal)
    assert len(events) == 1 and events[0]["DATE_FROM"].startswith("2026-01-07T12:00")

    # another manager → the event is in the new manager's calendar only
    other = 3 if owner != 3 else 2
    visits.client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": item["id"],
                                           "fields": {"assignedById": other}})
    visits.run_events()
    assert len(_events(visits.portal)) == 1 and len(_events(visits.portal, other)) == 1

    # the visit is deleted → the event is removed
    visits.client.call("crm.item.delete", {"entityTypeId": v.entity_type_id, "id": item["id"]})
    visits.run_events()
    assert _events(visits.portal) == []
    assert VisitsLedger(visits.live.store.engine, mid).event_of(item["id"]) is None

def test_plan_repeat_in_one_tap(visits):
    svc, mid, v = visits.services, visits.member_id, visits.v
    first = vcreate.create_visit(svc, mid, visits.company(11)["ID"], "2026-01-02", purpose="Замер полок")
    assert first[v.field("visit_date")].startswith("2026-01-02T10:00")          # a bare date = 10:00 local
    again = vcreate.plan_repeat(svc, mid, first["id"], "2026-01-20")
    assert again["stageId"] == v.stage("repeat_visit") and again["companyId"] == first["companyId"]
    assert again[v.field("visit_type")] == v.enum_id("visit_type", "repeat")
    assert again[v.field("purpose")] == "Замер полок"

@pytest.mark.parametrize("when,vtype,company,error", [
    ("", "planned", 1, "date is required"), ("soon", "planned", 1, "not a date"),
    ("2026-01-02", "party", 1, "unknown visit type"), ("2026-01-02", "planned", "x", "not a number"),
    ("2026-01-02", "planned", 99999, "cannot be read")])
def test_bad_input_is_refused_with_a_reason(visits, when, vtype, company, error):
    with pytest.raises(vcreate.CreateError, match=error):
        vcreate.create_visit(visits.services, visits.member_id, company, when, vtype)

def test_robot_creates_the_visit_and_its_event(visits):
    """The b24app_create_visit robot goes through visits.create: manager from the company, calendar event."""
    from b24app.robot_runtime import RobotCall
    from install.manifest import load
    from visits.robots import create_visit

    company = visits.company(12)
    robot = load().robot("b24app_create_visit")
    call = RobotCall(visits.services, visits.member_id, "b24app_create_visit",
                     {"properties": {"company_id": str(company["ID"]), "visit_date": "2026-01-09T09:00:00+03:00"},
                      "document_id": ["crm", "CCrmDocumentCompany", f"COMPANY_{company['ID']}"]}, robot)
    values, _log = create_visit(call)
    item = visits.item(values["visit_id"])
    assert item["assignedById"] == int(company["ASSIGNED_BY_ID"])
    assert any(e["DATE_FROM"].startswith("2026-01-09T09:00") for e in _events(visits.portal))


def test_calendar_drain_is_batched(visits):
    """1,000 visits marked by events: the calendar job reads them 2,500 per call and writes 50 per call."""
    from b24app.throttle import Throttle

    svc, mid, v = visits.services, visits.member_id, visits.v
    svc.throttle = Throttle(burst=10**9, drain=10**9)
    visits.portal.settings.rate_limit = False
    n, company = 1000, visits.company(13)
    base = {"categoryId": v.category_id, "stageId": v.stage("draft"), "companyId": int(company["ID"]),
            v.field("visit_date"): "2026-01-20T10:00:00+03:00"}
    res = visits.client.batch_many([("crm.item.add", {"entityTypeId": v.entity_type_id, "fields": {
        **base, "title": f"v{i}", "assignedById": 1 + i % 3}}) for i in range(n)])
    ids = [r.result["item"]["id"] for r in res]
    ledger = VisitsLedger(visits.live.store.engine, mid)

    def drain_counting():
        from visits.calendar_sync import drain

        before = len(visits.portal.log)
        counts = drain(svc, mid)
        return counts, sum(1 for r in visits.portal.log[before:] if r.via == "http")

    for i in ids:
        ledger.mark_dirty(i)
    counts, calls = drain_counting()
    assert counts == {"add": n} and len(_events(visits.portal)) == n
    assert calls <= 1 + 1 + n // 50, calls                      # read, sections, adds
    assert drain_counting() == ({}, 0)                            # nothing marked, nothing read

    visits.client.batch_many([("crm.item.update", {"entityTypeId": v.entity_type_id, "id": i, "fields": {
        v.field("visit_date"): "2026-01-21T12:00:00+03:00"}}) for i in ids])
    for i in ids:
        ledger.mark_dirty(i)
    counts, calls = drain_counting()
    assert counts == {"update": n} and calls <= 1 + n // 50, calls
    assert all(e["DATE_FROM"].startswith("2026-01-21T12:00") for e in _events(visits.portal))

    visits.client.batch_many([("crm.item.delete", {"entityTypeId": v.entity_type_id, "id": i}) for i in ids])
    for i in ids:
        ledger.mark_dirty(i, deleted=True)
    counts, calls = drain_counting()
    assert counts == {"delete": n} and calls <= n // 50 and _events(visits.portal) == []
    print(f"\ncalendar drain of {n} visits: {calls} HTTP calls for deletes")


def test_robot_visit_types_are_the_smart_process_enum():
    """The robot's select offers exactly the Visit smart process's visit_type enum (app.json), which is
    what visits.create accepts and the pages name."""
    from install.manifest import load
    from visits.strings import TYPES

    m = load()
    visit_type = next(f for f in m.smart_process("visit")["fields"] if f["key"] == "visit_type")
    enum = [e["xml_id"] for e in visit_type["enum"]]
    options = list(m.robot("b24app_create_visit")["properties"]["visit_type"]["options"])
    assert options == enum == list(vcreate.VISIT_TYPES) == list(TYPES["ru"]) == list(TYPES["en"])
    assert {"merchandising", "training"} <= set(options)


def test_robot_on_a_company_takes_the_company_from_document_id(visits):
    """The portal POSTs the robot with its property default ``{=Document:ID}`` unresolved; the company comes
    from ``document_id`` ["crm", "CCrmDocumentCompany", "COMPANY_<id>"]. Answered via bizproc.event.send."""
    from b24sandbox.robots import find_call, run_robot

    portal, v = visits.portal, visits.v
    company = visits.company(14)
    registered = portal.db.robots[(visits.live.client_id, "b24app_create_visit")]
    assert "training" in str(registered["PROPERTIES"]["visit_type"])
    token = run_robot(portal, visits.live.client_id, "b24app_create_visit",
                      ["crm", "CCrmDocumentCompany", f"COMPANY_{company['ID']}"],
                      {"visit_date": "09.01.2026 09:30:00", "visit_type": "merchandising"})
    call = find_call(portal, token)
    assert call.status == 200 and call.properties["company_id"] == "{=Document:ID}"
    visits.run_events(drain=False)
    (answer,) = [e for e in portal.db.bizproc_events if e["event_token"] == token]
    assert "visit_id" in answer["return_values"], answer
    vid = int(answer["return_values"]["visit_id"])
    item = visits.item(vid)
    assert item["companyId"] == company["ID"]
    assert item[v.field("visit_type")] == v.enum_id("visit_type", "merchandising")
    assert item["assignedById"] == int(company["ASSIGNED_BY_ID"])
    # on a contact there is no company to take: a clear log message, no visit
    token = run_robot(portal, visits.live.client_id, "b24app_create_visit", "CONTACT_1", {"visit_date": "09.01.2026"})
    visits.run_events(drain=False)
    (answer,) = [e for e in portal.db.bizproc_events if e["event_token"] == token]
    assert "not on a company" in str(answer.get("log_message")) and not answer.get("return_values")


def test_a_new_title_or_purpose_is_copied_to_the_calendar_event(visits):
    from visits.calendar_sync import drain

    svc, mid, v = visits.services, visits.member_id, visits.v
    item = vcreate.create_visit(svc, mid, visits.company(15)["ID"], "2026-01-08T10:00", purpose="Замер")
    (event,) = _events(visits.portal)
    assert event["DESCRIPTION"] == "Замер" and event["NAME"] == item["title"]
    visits.run_events()
    visits.client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": item["id"], "fields": {
        "title": "Обучение продавцов", v.field("purpose"): "Новая линейка"}})
    visits.run_events(drain=False)
    assert drain(svc, mid) == {"update": 1}
    (event,) = _events(visits.portal)
    assert (event["NAME"], event["DESCRIPTION"]) == ("Обучение продавцов", "Новая линейка")
    assert event["DATE_FROM"].startswith("2026-01-08T10:00")
    # a change the event does not show (the result) leaves the event alone
    visits.client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": item["id"], "fields": {
        v.field("result"): "—"}})
    visits.run_events(drain=False)
    assert drain(svc, mid) == {"unchanged": 1}


def test_moving_the_visits_calendar_event_moves_the_visit(visits):
    """Calendar → visit (issue 14): the manager drags the event in his calendar; ONCALENDARENTRYUPDATE
    (bound offline, data {id}) → calendar.event.getbyid → the visit's date follows, and the drain that the
    visit's own update triggers leaves the event where the manager put it. Deleting the event changes
    nothing on the visit (logged, link dropped)."""
    svc, mid, v = visits.services, visits.member_id, visits.v
    item = vcreate.create_visit(svc, mid, visits.company(13)["ID"], "2026-01-05T10:30", "training", "Показ")
    visits.run_events()
    link = VisitsLedger(visits.live.store.engine, mid).event_of(item["id"])
    ev = visits.portal.db.calendar_events.get(link["event_id"])
    visits.client.call("calendar.event.update", {"id": ev["ID"], "type": "user", "ownerId": ev["OWNER_ID"],
                                                 "from": "2026-01-08T15:00:00+03:00",
                                                 "to": "2026-01-08T16:00:00+03:00"})
    visits.run_events()
    moved = visits.item(item["id"])
    assert moved[v.field("visit_date")].startswith("2026-01-08T15:00"), moved[v.field("visit_date")]
    visits.run_events()                                              # the item's own update: nothing to do
    events = _events(visits.portal)
    assert len(events) == 1 and events[0]["ID"] == ev["ID"] and events[0]["DATE_FROM"].startswith("2026-01-08T15:00")

    visits.client.call("calendar.event.delete", {"id": ev["ID"]})
    visits.run_events()
    after = visits.item(item["id"])
    assert after[v.field("visit_date")] == moved[v.field("visit_date")] and after["stageId"] == moved["stageId"]
    assert VisitsLedger(visits.live.store.engine, mid).event_of(item["id"]) is None
