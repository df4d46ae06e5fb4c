"""Upgrades: ONAPPUPDATE (bound online to /events) and a recorded version older than app.json both queue
the install job; the job adds what is new and updates the smart-process titles and user-field labels the
manifest changed, and leaves an admin's own renaming alone."""
from __future__ import annotations

import copy

import pytest

from b24app import install_flow
from b24app.inbox import Worker
from install.apply import install, install_or_raise
from install.manifest import load, validate
from install.registry import installed_ids
from tests.app.conftest import CLIENT_ID
from tests.registries import with_installer


def _old_manifest():
    """Version 1 as it was: another Visit title, another label of the deal's worker field, no region field."""
    old = copy.deepcopy(load().data)
    old["version"] = 1
    visit = next(sp for sp in old["smart_processes"] if sp["key"] == "visit")
    visit["title"] = {"ru": "Выезд", "en": "Trip"}
    visit["fields"] = [f for f in visit["fields"] if f["key"] != "region"]
    for f in visit["fields"]:
        if f["key"] == "purpose":
            f["label"] = {"ru": "Зачем", "en": "Why"}
    worker = next(f for f in old["fields"]["deal"] if f["key"] == "worker")
    worker["label"] = {"ru": "Исполнитель (старое)", "en": "Worker (old)"}
    return validate(old)


@pytest.fixture
def old_install(app_env, portal, monkeypatch):
    report = install(app_env, portal.member_id, _old_manifest())
    assert report.complete, report.errors
    assert installed_ids(app_env.store, portal.member_id).version == 1
    app_env.registry = with_installer(install_or_raise)
    return app_env


def _uf(portal, entity_id, name):
    return next(u for u in portal.db.userfields.rows.values()
                if u["ENTITY_ID"] == entity_id and u["FIELD_NAME"] == name)


def _drain(services):
    worker = Worker(services, backoff=0.01, max_backoff=0.02)
    while worker.run_once():
        pass


def _assert_upgraded(services, portal, mark):
    mid = portal.member_id
    ids = installed_ids(services.store, mid)
    assert ids.complete and ids.version == load().version == 5
    assert install_flow.progress_of(services.store, mid)["state"] == "done"
    visit = ids.smart_process("visit")
    assert portal.db.types.get(visit.type_id)["title"] == "Посещение"
    assert _uf(portal, f"CRM_{visit.type_id}", visit.field_name("purpose"))["EDIT_FORM_LABEL"]["ru"] == "Цель визита"
    worker = _uf(portal, "CRM_DEAL", ids.deal_field("worker"))
    manifest_label = next(f for f in load().fields["deal"] if f["key"] == "worker")["label"]
    assert worker["EDIT_FORM_LABEL"] == manifest_label
    assert visit.field("region").endswith("Region")
    sent = [r.method for r in portal.log[mark:] if r.method != "batch" and r.status == 200]
    assert [m for m in sent if m.endswith(".add")] == ["userfieldconfig.add"]          # only the new field
    assert {"crm.type.update", "userfieldconfig.update", "crm.deal.userfield.update"} <= set(sent)


def test_onappupdate_is_bound_and_queues_the_upgrade(old_install, portal):
    services = old_install
    mine = {b.event: b for b in portal.events.bindings if b.client_id == CLIENT_ID and not b.offline}
    assert mine["ONAPPUPDATE"].handler == services.settings.public_url + "/events"
    ids = installed_ids(services.store, portal.member_id)
    client = services.client(portal.member_id)
    amount = _uf(portal, "CRM_DEAL", ids.deal_field("amount_paid"))
    client.call("crm.deal.userfield.update",
                {"id": amount["ID"], "fields": {"EDIT_FORM_LABEL": {"ru": "Оплачено (админ)"}}})
    mark = len(portal.log)
    portal.update_app(CLIENT_ID, "2")
    assert portal.events.flush()
    assert install_flow.progress_of(services.store, portal.member_id)["state"] != "queued"   # the POST did not run it
    _drain(services)                                  # ONAPPUPDATE → app:INSTALL → the install job
    _assert_upgraded(services, portal, mark)
    # the admin's label of a field whose manifest text did not change is left as the admin set it
    assert _uf(portal, "CRM_DEAL", ids.deal_field("amount_paid"))["EDIT_FORM_LABEL"]["ru"] == "Оплачено (админ)"
    mark = len(portal.log)
    again = install(services, portal.member_id)
    assert again.complete and again.rounds == 0
    assert not [r for r in portal.log[mark:] if r.method.endswith((".add", ".update"))]


def test_recorded_version_older_than_the_manifest_queues_the_install_job(old_install, portal):
    from install.jobs import check_version

    services, mid = old_install, portal.member_id
    mark = len(portal.log)
    job = check_version(services, mid)
    assert job and install_flow.progress_of(services.store, mid) == {**install_flow.progress_of(services.store, mid),
                                                                     "state": "queued", "job": job}
    assert check_version(services, mid) == job                 # queued once, not twice
    _drain(services)
    _assert_upgraded(services, portal, mark)
    pending = services.store.inbox.counts(mid).get("pending", 0)
    assert check_version(services, mid) is None                 # up to date: nothing queued
    assert services.store.inbox.counts(mid).get("pending", 0) == pending


def test_label_update_that_fails_is_retried_by_the_next_round(old_install, portal):
    """The update is planned until it lands: a refused first attempt leaves the old fingerprint recorded."""
    services, mid = old_install, portal.member_id
    portal.faults.fail_method("crm.deal.userfield.update", "ERROR_CORE", "refused", 400, times=1)
    first = install(services, mid, max_rounds=1)
    assert any("deal.field.worker: crm.deal.userfield.update: ERROR_CORE" in e for e in first.errors), first.errors
    report = install(services, mid)
    assert report.complete, report.errors
    assert "update deal.field.worker: crm.deal.userfield.update" in report.sent
    ids = installed_ids(services.store, mid)
    worker = _uf(portal, "CRM_DEAL", ids.deal_field("worker"))
    declared = next(f for f in load().fields["deal"] if f["key"] == "worker")
    assert worker["EDIT_FORM_LABEL"]["ru"] == declared["label"]["ru"]
