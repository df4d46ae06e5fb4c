"""The installed app on the demo sandbox portal, set up for the calculation → work flow: a manager (user
2, sales manager), the field department (workers 4..11) holding the engineer role, one engineer outside
it (user 3), an administrator (user 1); a catalog with two directions; a deal of the
pipeline "Service sales" managed by user 2. Ids come from installed_ids and the portal's answers."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import requests

from b24app import roles as app_roles
from b24app import session as page_sessions
from tests import pagesession
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.visits.conftest import Visits, portal, visits  # noqa: F401 - fixtures

MANAGER, OUTSIDER, ADMIN, ENGINEER, ENGINEER2 = 2, 3, 1, 5, 6


@dataclass
class Flow:
    vs: Visits
    dept: int = 0
    sections: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    @property
    def portal(self):
        return self.vs.portal

    @property
    def client(self):
        return self.vs.client

    @property
    def ids(self):
        from install.registry import installed_ids

        return installed_ids(self.vs.live.store, self.vs.member_id)

    def token(self, user: int, lang: str = "ru", roles: tuple | None = None) -> str:
        key = (user, lang, roles)
        if key not in self.tokens:
            held = roles or {MANAGER: (app_roles.SALES_MANAGER,), OUTSIDER: (app_roles.ENGINEER,),
                             ADMIN: (app_roles.ADMIN,)}.get(user, (app_roles.ENGINEER,))
            self.tokens[key] = pagesession.for_live(self.vs.live, page_sessions.PageSession(
                self.vs.member_id, user, lang, "CRM_DEAL_DETAIL_TAB", roles=held))
        return self.tokens[key]

    def call(self, method: str, path: str, user: int | None = None, body=None, token: str | None = None,
             lang: str = "ru"):
        self.vs.advance(hours=0.02)        # a person's minute between clicks: the portal's bucket drains
        headers = {} if token == "" else {page_sessions.HEADER: token or self.token(user, lang)}
        return requests.request(method, self.vs.live.url + path, headers=headers, json=body, timeout=60)

    def new_deal(self, title: str = "Окна в новостройке, 3 шт.") -> int:
        pipe = self.ids.pipeline("services")
        return int(self.client.call("crm.deal.add", {"fields": {
            "TITLE": title, "CATEGORY_ID": pipe.category_id, "STAGE_ID": pipe.stage("new"),
            "ASSIGNED_BY_ID": MANAGER}}))

    def deal(self, deal_id: int) -> dict:
        return self.client.call("crm.deal.get", {"id": deal_id})

    def deal_stage(self, deal_id: int) -> str | None:
        return self.ids.pipeline("services").stage_key(self.deal(deal_id)["STAGE_ID"])

    def item(self, key: str, item_id: int) -> dict:
        sp = self.ids.smart_process(key)
        return self.client.call("crm.item.get", {"entityTypeId": sp.entity_type_id, "id": item_id})["item"]

    def stage(self, key: str, item_id: int) -> str | None:
        return self.ids.smart_process(key).stage_key(self.item(key, item_id)["stageId"])

    def notes(self) -> list[tuple[int, str, str]]:
        """(USER_ID, TAG, MESSAGE) of every notification the portal holds, in order."""
        return [(n["USER_ID"], n["TAG"], n["MESSAGE"]) for n in self.portal.db.notifications.rows.values()]

    def comments(self, entity_type: str, entity_id: int) -> list[str]:
        return [c["COMMENT"] for c in self.portal.db.comments.rows.values()
                if c["ENTITY_TYPE"] == entity_type and int(c["ENTITY_ID"]) == int(entity_id)]

    def log(self, method: str) -> list:
        return [r for r in self.portal.log if r.method == method and r.status == 200]


def setup_flow(vs: Visits) -> Flow:
    f = Flow(vs)
    db = vs.portal.db
    f.dept = next(d["ID"] for d in db.departments.rows.values() if d["NAME"] == "Выездная служба")
    vs.services.store.kv.set(vs.member_id, app_roles.KV_KEY, app_roles.validate({
        "users": {str(MANAGER): ["sales_manager"], str(OUTSIDER): ["engineer"], str(ADMIN): ["admin"]},
        "departments": {str(f.dept): ["engineer"]}}))
    c = vs.client
    f.sections["new"] = c.call("crm.productsection.add", {"fields": {"NAME": "Новостройки"}})
    f.sections["old"] = c.call("crm.productsection.add", {"fields": {"NAME": "Вторичный фонд"}})
    for key, name, price, sec in (("glass", "Замена стеклопакета", 4500, "new"),
                                  ("slope", "Монтаж откоса", "1200.50", "new"),
                                  ("sill", "Подоконник ПВХ", 2300, "new"),
                                  ("dismantle", "Демонтаж окна", 800, "old")):
        f.products[key] = c.call("crm.product.add", {"fields": {"NAME": name, "PRICE": price,
                                                                 "SECTION_ID": f.sections[sec]}})
    vs.advance(hours=1)                    # the install's calls filled the portal's bucket (sandbox clock)
    return f


@pytest.fixture
def flow(visits):
    return setup_flow(visits)
