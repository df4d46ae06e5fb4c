"""A known set of visits in several regions and stages on the installed demo portal, the plan in kv, and
job facts of two workers — what the dashboards tests count. The sandbox's FakeClock starts on
2026-01-01 00:00 UTC (03:00 in Moscow, the portal's zone); stage moves happen at clock times we choose, so
``movedTime`` (on time or late) is known."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app import session as page_sessions
from tests import pagesession
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.visits.conftest import Visits, portal, visits  # noqa: F401 - fixtures

MSK = ZoneInfo("Europe/Moscow")
PLAN = {"2": 10, "4": 6, "default": 4}

# (name, date (Moscow), stage, region, manager); "late" moves to done on Jan 8 — after its day was over
VISITS = [
    ("A", "2026-01-05T10:00", "done", "Москва", 2),
    ("B", "2026-01-06T11:00", "late", "Москва", 2),
    ("C", "2026-01-07T12:00", "overdue", "Москва", 2),
    ("D", "2026-01-20T10:00", "in_work", "Москва", 2),
    ("E", "2026-01-10T09:00", "done", "Казань", 3),
    ("F", "2026-01-12T15:00", "failed", "Казань", 3),
    ("G", "2026-01-25T10:00", "draft", "Казань", 3),
    ("H", "2026-01-15T13:00", "repeat_visit", "", 2),
    ("feb", "2026-02-03T10:00", "done", "Москва", 2),            # outside January
    ("dec", "2025-12-31T23:30", "done", "Москва", 2),            # Moscow's December, UTC's December too
    ("jan1", "2026-01-01T00:10", "draft", "Казань", 3),          # UTC's December 31, Moscow's January 1
]


@dataclass
class Known:
    vs: Visits
    ids: dict = field(default_factory=dict)
    token: str = ""

    def api(self, path: str, token: str | None = None, **kw):
        return requests.get(self.vs.live.url + path, headers={page_sessions.HEADER: token or self.token},
                            timeout=30, **kw)


def add_visits(vs: Visits, rows=VISITS) -> dict:
    v, client = vs.v, vs.client
    company = vs.company(3)
    ids = {}
    for name, when, stage, region, manager in rows:
        first = "in_work" if stage == "late" else stage
        fields = {"title": f"visit {name}", "categoryId": v.category_id, "stageId": v.stage(first),
                  "companyId": int(company["ID"]), v.field("visit_date"): datetime.fromisoformat(when)
                  .replace(tzinfo=MSK).isoformat(), "assignedById": manager}
        if region:
            fields[v.field("region")] = region
        ids[name] = int(client.call("crm.item.add", {"entityTypeId": v.entity_type_id, "fields": fields})["item"]["id"])
    vs.advance(days=7)                                                   # 2026-01-08 03:00 MSK
    for name, _, stage, _, _ in rows:
        if stage == "late":
            client.call("crm.item.update", {"entityTypeId": v.entity_type_id, "id": ids[name],
                                             "fields": {"stageId": v.stage("done")}})
    return ids


def add_jobs(vs: Visits) -> None:
    """Two workers' job facts as the Start/Finish job robots record them (maps.mapstate)."""
    from maps import mapstate

    eng, mid = vs.live.store.engine, vs.member_id

    def at(d, h, m):
        return datetime(2026, 1, d, h, m, tzinfo=MSK)
    mapstate.job_started(eng, mid, 9001, at(14, 9, 40), 4, 40)
    mapstate.job_finished(eng, mid, 9001, at(14, 10, 30), 50)
    mapstate.job_started(eng, mid, 9002, at(14, 10, 55), 4, 25)
    mapstate.job_finished(eng, mid, 9002, at(14, 12, 0), 65)
    mapstate.job_started(eng, mid, 9003, at(20, 11, 0), 5, 60)          # started, not finished
    mapstate.job_started(eng, mid, 9004, at(2, 12, 0) .replace(month=2), 5, 10)   # February


@pytest.fixture
def known(visits):
    visits.live.store.kv.set(visits.member_id, "visits.plan", PLAN)
    k = Known(visits, add_visits(visits))
    add_jobs(visits)
    k.token = pagesession.for_live(visits.live, page_sessions.PageSession(
        member_id=visits.member_id, user_id=1, lang="ru"))
    return k
