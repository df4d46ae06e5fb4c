"""An installed b24app on the demo sandbox portal (300 companies with coordinates), the portal's clock as
the rules' clock, and helpers to read what the portal now holds."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.app.conftest import live_app, store_url  # noqa: F401 - the live app fixture


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


@dataclass
class Visits:
    live: object
    portal: object
    cloud: object

    @property
    def services(self):
        return self.live.services

    @property
    def member_id(self) -> str:
        return self.portal.member_id

    @property
    def v(self):
        from install.registry import installed_ids

        return installed_ids(self.live.store, self.member_id).smart_process("visit")

    @property
    def client(self):
        return self.services.client(self.member_id)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.cloud.clock.now(), UTC)

    def advance(self, days: float = 0, hours: float = 0) -> None:
        self.cloud.clock.advance(days * 86400 + hours * 3600)

    def item(self, item_id: int) -> dict:
        return self.client.call("crm.item.get", {"entityTypeId": self.v.entity_type_id, "id": item_id})["item"]

    def stage_key(self, item_id: int) -> str:
        return self.v.stage_key(self.item(item_id)["stageId"])

    def comments(self, item_id: int) -> list[str]:
        return [c["COMMENT"] for c in self.portal.db.comments.rows.values()
                if c["ENTITY_TYPE"] == f"dynamic_{self.v.entity_type_id}" and c["ENTITY_ID"] == item_id]

    def company(self, n: int = 0) -> dict:
        rows = sorted(self.portal.db.companies.rows.values(), key=lambda r: r["ID"])
        return rows[n]

    def run_events(self, drain: bool = True) -> int:
        """Pull the portal's offline events into the inbox, run the worker until it is idle, then the
        calendar job (what ``b24app worker`` and ``b24app scheduler`` do between them)."""
        from b24app.inbox import Worker, pull_offline
        from visits.calendar_sync import drain as drain_calendar

        while pull_offline(self.services, self.member_id):
            pass
        worker = Worker(self.services, backoff=0.01, max_backoff=0.05)
        total = 0
        while (n := worker.run_once()):
            total += n
        if drain:
            drain_calendar(self.services, self.member_id)
        return total


@pytest.fixture
def visits(live_app, portal, cloud):
    """Our leaky bucket runs on the portal's clock, as the portal's own does: time the test lets pass
    drains both, and the test never waits in real time for ours."""
    from b24app.throttle import Throttle

    live_app.services.throttle = Throttle(clock=cloud.clock.now, sleep=cloud.clock.advance)
    res = live_app.install(portal)
    assert res["status"] == 200, res
    assert res["progress"]["state"] == "done", res
    return Visits(live_app, portal, cloud)
