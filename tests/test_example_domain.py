"""Adding a domain = one package + one line: tests/example_domain is enabled by naming it in
``Settings.domains`` (B24APP_DOMAINS), and the app built from that setting handles its event, answers
its robot and schedules its job — and a portal can switch it off (kv ``domains.disabled``)."""
from __future__ import annotations

import pytest

from b24app.app import create_app
from b24app.config import Settings
from b24app.domains import DOMAINS
from b24app.registry import DISABLED_KEY
from b24sandbox.robots import find_call, run_robot
from b24app.scheduler import Scheduler, run_job
from install.manifest import load
from tests.app.conftest import CLIENT_ID, CLIENT_SECRET, LOOPBACK, LiveApp, start_server
from tests.example_domain.plugin import ROBOT, SEEN_KEY, TICKS_KEY

EXAMPLE = "tests.example_domain"


@pytest.fixture
def example_app(cloud, portal, sqlite_url):
    server, holder, url = start_server(None)
    settings = Settings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, oauth_server=cloud.oauth_url,
                        public_url=url, database_url=sqlite_url, allow_http_portals=True, secret_key="test",
                        outbound_allow=LOOPBACK, domains=",".join([*DOMAINS, EXAMPLE]))     # the one line
    app = create_app(settings)
    holder["app"] = app
    cloud.register_app(CLIENT_ID, CLIENT_SECRET, handler_url=url + "/app", install_url=url + "/install",
                       scope=load().scopes)
    live = LiveApp(url=url, app=app, services=app.extensions["b24"], settings=settings, cloud=cloud,
                   client_id=CLIENT_ID, client_secret=CLIENT_SECRET, _servers=[server])
    assert live.install(portal, mode="event")["progress"]["state"] == "done"     # app.json + the example's hook
    yield live
    server.shutdown()
    server.server_close()
    live.services.store.close()


def _drain(live):
    worker = live.worker()
    while worker.run_once():
        pass


def _answer(portal, token):
    return next(e for e in portal.db.bizproc_events if e["event_token"] == token)


def test_an_enabled_example_domain_handles_its_event_robot_and_job(example_app, portal):
    live, mid = example_app, portal.member_id
    assert EXAMPLE in live.services.registry.domains

    contact = live.services.client(mid).call("crm.contact.add", {"fields": {"NAME": "Anna"}})
    assert portal.wait_events()
    _drain(live)
    assert live.store.kv.get(mid, SEEN_KEY) == [str(contact)]                      # the event, handled

    token = run_robot(portal, CLIENT_ID, ROBOT, f"CONTACT_{contact}", {"name": "Anna"})
    assert find_call(portal, token).status == 200
    _drain(live)
    assert _answer(portal, token)["return_values"] == {"greeting": "Hello, Anna"}   # the robot, answered

    sched = Scheduler(live.services)
    try:
        assert sched.start()
        job = sched.aps.get_job(f"example.tick:{mid}")                               # the job, scheduled
        assert job is not None and job.trigger.interval.total_seconds() == 120
        run_job("example.tick", mid)
        assert live.store.kv.get(mid, TICKS_KEY) == 1

        live.store.kv.set(mid, DISABLED_KEY, [EXAMPLE])                              # this portal: off
        run_job("example.tick", mid)
        assert live.store.kv.get(mid, TICKS_KEY) == 1
    finally:
        sched.shutdown()
    live.services.client(mid).call("crm.contact.add", {"fields": {"NAME": "Boris"}})
    assert portal.wait_events()
    _drain(live)
    assert live.store.kv.get(mid, SEEN_KEY) == [str(contact)]
    token = run_robot(portal, CLIENT_ID, ROBOT, f"CONTACT_{contact}", {"name": "Anna"})
    _drain(live)
    answer = _answer(portal, token)                  # still answered, or the workflow would wait forever
    assert answer["return_values"] == {} and f"«{EXAMPLE}» отключён" in answer["log_message"]   # ru portal


def test_a_deployment_without_the_domain_does_not_know_it():
    from b24app import domains

    registry = domains.build(settings=Settings(domains="maps"))
    assert registry.domains == ["install", "maps"] and ROBOT not in registry.robots
    assert "example.tick" not in registry.periodic and "ONCRMCONTACTADD" not in registry.events
    assert "handlers.visits" not in registry.blueprints and "handlers.maps" in registry.blueprints
