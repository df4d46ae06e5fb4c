"""The rules domain on the domain contract: declared by one line in b24app/domains.py, its events, its
periodic pass and its blueprint; a portal without rules costs no portal call per deal event; a portal that
switched the domain off gets nothing done."""
from __future__ import annotations

import pytest

from b24app import domains
from b24app.registry import enabled
from rules import engine, model, presets
from tests.rules.conftest import drain


def test_declared_on_the_contract():
    reg = domains.build()
    assert "rules" in reg.domains
    assert engine.on_deal_event in [d.fn for d in reg.events["ONCRMDEALUPDATE"]]
    assert engine.on_deal_event in [d.fn for d in reg.events["ONCRMDEALADD"]]
    job = reg.periodic["rules.sweep"]
    assert job.fn is engine.run and job.domain == "rules" and job.setting_key == "rules.sweep_seconds"
    assert "handlers.rules" in reg.blueprints and model.KV_KEY in reg.settings
    assert "rules" not in domains.build(["maps"]).domains                   # switched off for a deployment


@pytest.mark.parametrize("clock_start", [None])
def test_no_rules_no_portal_calls_and_a_portal_can_switch_the_domain_off(furniture):
    f = furniture
    model.save(f.live.store.kv, f.member_id, model.validate(model.EMPTY))
    deal = f.add_deal("PAYMENT")
    f.breathe()
    before = len(f.portal.log)
    engine.on_deal_event(f.services, f.member_id, {"data": {"FIELDS": {"ID": deal}}})
    assert engine.sweep(f.services, f.member_id, f.now()).read == 0
    assert len(f.portal.log) == before
    model.save(f.live.store.kv, f.member_id, presets.build("seed004_furniture", {"category": f.category}))
    f.live.store.kv.set(f.member_id, "domains.disabled", ["rules"])
    assert not enabled(f.live.store, f.member_id, "rules")
    f.move(deal, "PROD_TASK")
    drain(f.services, f.member_id)
    f.run_events()
    assert f.tasks() == [] and f.notes() == []                              # the worker skipped the domain
