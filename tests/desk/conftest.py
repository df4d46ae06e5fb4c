"""The installed app on the demo sandbox portal plus one known caller: a company and its contact with
the same phone written two ways, three Equipment items (under warranty, expired by date, out of hours),
one open and two closed deals. Equipment ids/fields come from installed_ids, never hard-coded."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import requests

from b24app import session as page_sessions
from tests import pagesession
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.visits.conftest import Visits, portal, visits  # noqa: F401 - fixtures

COMPANY_PHONE = "+7 (916) 555-12-34"
CONTACT_PHONE = "8 916 555 12 34"


@dataclass
class Desk:
    vs: Visits
    company_id: int = 0
    contact_id: int = 0
    equipment: dict = field(default_factory=dict)
    deals: dict = field(default_factory=dict)
    today: date | None = None

    @property
    def eq(self):
        from install.registry import installed_ids

        return installed_ids(self.vs.live.store, self.vs.member_id).smart_process("equipment")

    def token(self, lang: str = "ru") -> str:
        return pagesession.for_live(self.vs.live, page_sessions.PageSession(self.vs.member_id, 1, lang, "LEFT_MENU"))

    def get(self, path: str, token: str | None = None, **kw):
        self.vs.advance(hours=0.02)        # a dispatcher's minute between calls: the portal's bucket drains
        return requests.get(self.vs.live.url + path, headers={page_sessions.HEADER: token or self.token()},
                            timeout=30, **kw)

    def post(self, path: str, body, token: str | None = None):
        self.vs.advance(hours=0.02)
        return requests.post(self.vs.live.url + path, headers={page_sessions.HEADER: token or self.token()},
                             json=body, timeout=30)

    def put(self, path: str, body, token: str | None = None):
        self.vs.advance(hours=0.02)
        return requests.put(self.vs.live.url + path, headers={page_sessions.HEADER: token or self.token()},
                            json=body, timeout=30)

    def add_equipment(self, name: str, model: str, serial: str, end: date, hours: float | None,
                      used: float | None, company_id: int | None = None) -> int:
        eq = self.eq
        fields = {"title": name, "companyId": company_id or self.company_id, eq.field("model"): model,
                  eq.field("serial"): serial, eq.field("purchase_date"): (end - timedelta(days=730)).isoformat(),
                  eq.field("warranty_end"): end.isoformat()}
        if hours is not None:
            fields[eq.field("warranty_hours")] = hours
        if used is not None:
            fields[eq.field("hours_used")] = used
        item = self.vs.client.call("crm.item.add", {"entityTypeId": eq.entity_type_id, "fields": fields})["item"]
        self.equipment[name] = int(item["id"])
        return int(item["id"])


def seed_caller(vs: Visits, today: date) -> Desk:
    client = vs.client
    d = Desk(vs, today=today)
    d.company_id = int(client.call("crm.company.add", {"fields": {
        "TITLE": "ООО «СтарТек-Агро»", "ADDRESS": "ул. Полевая, 7", "ADDRESS_CITY": "Липецк",
        "PHONE": [{"VALUE": COMPANY_PHONE, "VALUE_TYPE": "WORK"}]}}))
    d.contact_id = int(client.call("crm.contact.add", {"fields": {
        "NAME": "Пётр", "LAST_NAME": "Полевой", "COMPANY_ID": d.company_id,
        "PHONE": [{"VALUE": CONTACT_PHONE, "VALUE_TYPE": "MOBILE"}]}}))
    d.add_equipment("tractor", "Беларус 1221", "SN-1221-001", today + timedelta(days=45), 2000, 1250.5)
    d.add_equipment("harvester", "Акрос 595", "SN-595-002", today - timedelta(days=3), 3000, 100)
    d.add_equipment("seeder", "Amazone D9", "SN-D9-003", today + timedelta(days=200), 500, 500)
    for name, stage in (("open", "NEW"), ("won", "WON"), ("lost", "LOSE")):
        d.deals[name] = int(client.call("crm.deal.add", {"fields": {
            "TITLE": f"Ремонт ({name})", "COMPANY_ID": d.company_id, "CONTACT_ID": d.contact_id, "STAGE_ID": stage}}))
    vs.advance(hours=1)                    # the install's calls filled the portal's bucket (sandbox clock)
    return d


@pytest.fixture
def desk(visits):
    from desk.lookup import today_of

    return seed_caller(visits, today_of(visits.services, visits.member_id))
