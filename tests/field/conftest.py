"""An installed b24app on the demo sandbox portal for the worker's phone: a working Wednesday on the portal's
clock (our throttle and "now" on that clock, so nothing waits in real time), the field worker (user 4)
reading deals as the portal lets a field team, and two measurement jobs of his today — each with its
Bitrix24 task, as the dispatcher's booking leaves them — plus one job of another worker (user 5)."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import requests

from b24app import roles as app_roles
from b24app import session as page_sessions
from tests.app.conftest import CLIENT_ID, CLIENT_SECRET, live_app  # noqa: F401 - fixtures
from tests.pagesession import issue

WORKER, OTHER, MANAGER = 4, 5, 2
DAY_START = datetime(2026, 1, 14, 6, 0, tzinfo=UTC)          # Wednesday 09:00 in Moscow
# the smallest real JPEG: a photo's bytes, checked byte for byte in the portal's files
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////"
    "////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")


@pytest.fixture
def store_url(db_url):
    """The phone's ledger on both backends: every test here runs on SQLite and on PostgreSQL."""
    return db_url


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


@dataclass
class Field:
    live: object
    portal: object
    cloud: object
    jobs: list = field(default_factory=list)         # [(deal id, task id)] of WORKER, in time order
    other_job: int = 0

    @property
    def services(self):
        return self.live.services

    @property
    def member_id(self) -> str:
        return self.portal.member_id

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.cloud.clock.now(), UTC)

    def advance(self, minutes: float) -> None:
        self.cloud.clock.advance(minutes * 60)

    def session(self, user_id: int = WORKER, roles=(app_roles.FIELD_WORKER,), lang: str = "ru") -> str:
        return issue(self.live.store, self.cloud, self.live.client_id, page_sessions.PageSession(
            member_id=self.member_id, user_id=user_id, lang=lang, roles=tuple(roles)))

    def post(self, token: str, body) -> requests.Response:
        return requests.post(self.live.url + "/api/field/actions", headers={page_sessions.HEADER: token},
                             json=body, timeout=30)

    def get_day(self, token: str, **params) -> requests.Response:
        return requests.get(self.live.url + "/api/field/day", headers={page_sessions.HEADER: token},
                            params=params, timeout=30)

    def deal(self, deal_id: int) -> dict:
        return self.portal.db.deals.get(deal_id)

    def stage_key(self, deal_id: int) -> str | None:
        from install.registry import installed_ids

        ids = installed_ids(self.live.store, self.member_id)
        return ids.pipeline("measurements").stage_key(self.deal(deal_id)["STAGE_ID"])

    def task(self, task_id: int) -> dict:
        return self.portal.db.tasks.get(task_id)

    def elapsed(self, task_id: int) -> list[dict]:
        return [r for r in self.portal.db.task_elapsed.rows.values() if r["TASK_ID"] == task_id]

    def files(self, deal_id: int) -> list[dict]:
        return [f for c in self.portal.db.comments.rows.values()
                if c["ENTITY_TYPE"] == "deal" and int(c["ENTITY_ID"]) == deal_id for f in c.get("FILES") or []]

    def comments(self, deal_id: int) -> list[str]:
        return [c["COMMENT"] for c in self.portal.db.comments.rows.values()
                if c["ENTITY_TYPE"] == "deal" and int(c["ENTITY_ID"]) == deal_id]

    def calls(self, method: str) -> int:
        return sum(1 for r in self.portal.log if r.method == method and r.status == 200)


def add_job(f: Field, worker: int, at: datetime, title: str, point=(55.75, 37.61)) -> tuple[int, int]:
    """A booked measurement job as maps/booking.py leaves it: the deal (worker, time, place, manager) and the
    worker's task bound to it (UF_CRM_TASK D_<id>)."""
    from install.registry import installed_ids

    ids = installed_ids(f.live.store, f.member_id)
    pipe = ids.pipeline("measurements")
    client = f.services.client(f.member_id)
    deal_id = int(client.call("crm.deal.add", {"fields": {
        "TITLE": title, "CATEGORY_ID": pipe.category_id, "STAGE_ID": pipe.stage("scheduled"),
        "ASSIGNED_BY_ID": MANAGER, ids.deal_field("worker"): worker, ids.deal_field("job_at"): at.isoformat(),
        ids.deal_field("job_duration"): 60, ids.deal_field("job_address"): "Москва, Тверская ул., 7",
        ids.deal_field("coordinates"): f"{point[0]},{point[1]}"}}))
    task = client.call("tasks.task.add", {"fields": {
        "TITLE": f"Замер: {title}", "RESPONSIBLE_ID": worker, "CREATED_BY": MANAGER,
        "UF_CRM_TASK": [f"D_{deal_id}"], "START_DATE_PLAN": at.isoformat()}})
    return deal_id, int(task["task"]["id"])


@pytest.fixture
def fieldday(live_app, portal, cloud):
    from b24app.throttle import Throttle
    from b24sandbox.cloud import DEFAULT_SCOPE
    from maps import service as maps_service

    # the app asks for imopenlines (app.json); the sandbox gives an app the scopes it was registered with
    cloud.register_app(CLIENT_ID, CLIENT_SECRET, handler_url=live_app.url + "/app",
                       install_url=live_app.url + "/install", scope=[*DEFAULT_SCOPE, "imopenlines"])
    live_app.services.throttle = Throttle(clock=cloud.clock.now, sleep=cloud.clock.advance)
    cloud.clock.advance(DAY_START.timestamp() - cloud.clock.now())
    res = live_app.install(portal)
    assert res["status"] == 200 and res["progress"]["state"] == "done", res
    portal.set_crm_role(WORKER, None)          # the field team reads the deals it works on
    f = Field(live_app, portal, cloud)
    f.jobs = [add_job(f, WORKER, DAY_START + timedelta(hours=h), f"Замер {h}") for h in (1, 4)]
    f.other_job = add_job(f, OTHER, DAY_START + timedelta(hours=2), "Чужой замер", (55.8, 37.5))[0]
    maps_service.changed(f.services, f.member_id, [d for d, _ in f.jobs] + [f.other_job])
    return f
