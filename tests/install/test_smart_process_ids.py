"""The app takes the entityTypeIds the portal gives: on a current portal (sequence from 1030) its smart
processes land at even ids ≥ 1032, and everything reads them back through installed_ids."""
from __future__ import annotations

from install.manifest import load


def test_smart_processes_land_at_the_ids_a_current_portal_gives(installed, portal):
    _services, ids = installed
    got = {sp["key"]: ids.smart_process(sp["key"]).entity_type_id for sp in load().smart_processes}
    assert sorted(got.values()) == list(range(1032, 1032 + 2 * len(got), 2)), got
    for key, etid in got.items():
        assert portal.db.type_by_entity_type_id(etid)["entityTypeId"] == etid, key
