"""A visit is moved from its card (issue 14): POST /api/visits/<id>/reschedule {date} writes the date, moves
its calendar event at once (same event, new time), brings an Overdue visit back to In work; the past, a bad
date and a finished visit are refused in the person's language, nothing written. The portal's clock is
"now"."""
from __future__ import annotations

from visits import create as vcreate
from visits.ledger import VisitsLedger
from tests.visits.test_pages_api import api  # noqa: F401 - fixture


def test_reschedule_moves_the_visit_and_its_event_and_refuses_what_cannot_be(api):
    vs = api.visits
    v = vs.v
    item = vcreate.create_visit(vs.services, vs.member_id, vs.company(30)["ID"], "2026-01-05T10:30", "planned", "x")
    link = VisitsLedger(vs.live.store.engine, vs.member_id).event_of(item["id"])
    status, res = api("POST", f"/api/visits/{item['id']}/reschedule", json={"date": "2026-01-09T15:00"})
    assert status == 200 and res["date"].startswith("2026-01-09T15:00"), res
    assert vs.item(item["id"])[v.field("visit_date")].startswith("2026-01-09T15:00")
    ev = vs.portal.db.calendar_events.get(link["event_id"])
    assert ev is not None and ev["DATE_FROM"].startswith("2026-01-09T15:00")          # the same event, moved

    before = vs.item(item["id"])[v.field("visit_date")]
    for body, says in (({"date": "2025-12-31T10:00"}, "уже прошло"), ({"date": "soon"}, "не дата"),
                       ({}, "укажите дату визита")):
        status, err = api("POST", f"/api/visits/{item['id']}/reschedule", json=body)
        assert status == 400 and says in err["error_description"], (body, err)
    assert vs.item(item["id"])[v.field("visit_date")] == before                        # nothing written

    vs.client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": item["id"],
                                       "fields": {"stageId": v.stage("overdue")}})
    status, res = api("POST", f"/api/visits/{item['id']}/reschedule", json={"date": "2026-01-12"})
    assert status == 200 and res["stage"] == "in_work" and res["date"].startswith("2026-01-12T10:00"), res
    vs.client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": item["id"],
                                       "fields": {"stageId": v.stage("done")}})
    status, err = api("POST", f"/api/visits/{item['id']}/reschedule", json={"date": "2026-01-20"})
    assert status == 400 and "повторный" in err["error_description"]
    status, err = api("POST", "/api/visits/999999/reschedule", json={"date": "2026-01-20"})
    assert status == 404
