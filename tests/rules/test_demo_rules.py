"""The demo's seed 004 (rules/demo.py, run by ``b24app demo``): the preset installed with its structure on a
fresh portal, and data that makes every one of its 22 rules fire — the event rules through the portal's events,
the time-based ones on the scheduler's first pass — each once, none of them failing."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules import demo, model
from rules.ledger import RulesLedger
from tests.rules.conftest import drain

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize("clock_start", [datetime(2027, 3, 17, 11, 0, tzinfo=MSK)])     # a Wednesday
def test_the_demo_data_makes_every_preset_rule_fire(live_app, portal, cloud):
    from b24app.inbox import pull_offline
    from b24app.throttle import Throttle
    from b24sandbox.filters import MSK as SANDBOX_TZ

    live_app.services.throttle = Throttle(clock=cloud.clock.now, sleep=cloud.clock.advance)
    assert live_app.install(portal)["progress"]["state"] == "done"
    now = datetime.fromtimestamp(cloud.clock.now(), MSK)
    out = demo.seed(live_app.services, portal.member_id, now=now)
    for (kind, rid), days in out["backdate"].items():            # what b24app/cli.py does on the demo portal
        row = (portal.db.leads if kind == "lead" else portal.db.deals).get(rid)
        row["MOVED_TIME"] = (now - timedelta(days=days)).astimezone(SANDBOX_TZ).isoformat(timespec="seconds")
    cloud.clock.advance(60)
    for _ in range(3):                                           # events, then what the rules' own writes raise
        while pull_offline(live_app.services, portal.member_id):
            pass
        drain(live_app.services, portal.member_id)
        cloud.clock.advance(60)
    from rules.engine import sweep
    cloud.clock.advance(600)
    st = sweep(live_app.services, portal.member_id, datetime.fromtimestamp(cloud.clock.now(), MSK))
    assert st.errors == []
    rows = RulesLedger(live_app.store.engine, portal.member_id).rows()
    done = {r["rule_id"] for r in rows if r["status"] == "done" and not r["error"]}
    preset = {r.id for r in model.load(live_app.store.kv, portal.member_id).rules}
    assert len(preset) == 22 and preset - done == set(), [(r["rule_id"], r["error"]) for r in rows if r["error"]]
    deals = out["deals"]
    cat = out["variables"]["category"]
    assert live_app.services.client(portal.member_id).call("crm.deal.get", {"id": deals["ready"]})["STAGE_ID"] \
        == f"C{cat}:SHIPMENT"
