"""Working hours per worker and the settings document: overrides merge key by key, the time zone falls
back to the portal's (visits.tz), and bad documents are refused with the path of the bad value."""
from __future__ import annotations

from datetime import time
from types import SimpleNamespace

import pytest

from b24app.store import open_store
from maps import service
from maps.settings import SettingsError, validate

CONF = {"tz": "Asia/Novosibirsk",
        "hours": {"start": "09:00", "end": "18:00", "breaks": [["13:00", "14:00"]], "weekdays": [0, 1, 2, 3, 4]},
        "worker_hours": {"7": {"start": "07:00", "end": "16:00"}, "8": {"breaks": [], "weekdays": [5, 6]}}}


def test_worker_overrides_merge_over_portal_hours():
    portal = service.working_hours(CONF)
    assert (portal.start, portal.end, portal.breaks) == (time(9), time(18), ((time(13), time(14)),))
    seven = service.working_hours(CONF, 7)
    assert (seven.start, seven.end, seven.breaks, seven.weekdays) == \
        (time(7), time(16), ((time(13), time(14)),), frozenset(range(5)))
    eight = service.working_hours(CONF, "8")
    assert (eight.start, eight.breaks, eight.weekdays) == (time(9), (), frozenset({5, 6}))
    assert service.working_hours(CONF, 99) == portal            # no override: the portal's hours
    assert str(seven.tz) == "Asia/Novosibirsk"


def test_defaults_without_settings():
    h = service.working_hours({})
    assert (h.start, h.end, h.breaks, h.weekdays) == (time(9), time(18), (), frozenset(service.DEFAULT_WEEKDAYS))


@pytest.fixture
def services(sqlite_url):
    store = open_store(sqlite_url)
    yield SimpleNamespace(store=store)
    store.close()


def test_time_zone_falls_back_to_the_portals(services):
    kv = services.store.kv
    assert str(service.tz(service.settings(services, "m1"))) == "Europe/Moscow"
    kv.set("m1", "visits.tz", "Asia/Yekaterinburg")                  # what the visits pages keep
    assert str(service.tz(service.settings(services, "m1"))) == "Asia/Yekaterinburg"
    kv.set("m1", service.SETTINGS_KEY, {"tz": "Europe/Kaliningrad"})  # the map's own setting wins
    assert str(service.tz(service.settings(services, "m1"))) == "Europe/Kaliningrad"


def test_validate_keeps_a_good_document_and_normalises():
    out = validate({**CONF, "workers": ["7", 8], "teams": {"installation": [7]}, "homes": {"7": ["55.7", 37.6]},
                    "fixed_slack_min": 10})
    assert out["workers"] == [7, 8] and out["homes"] == {"7": [55.7, 37.6]}
    assert out["worker_hours"]["8"] == {"breaks": [], "weekdays": [5, 6]}


@pytest.mark.parametrize("doc,path", [
    ({"hours": {"end": "9:60"}}, "hours.end"),
    ({"hours": {"breaks": [["14:00", "13:00"]]}}, "hours.breaks.0"),
    ({"hours": {"breaks": "13-14"}}, "hours.breaks"),
    ({"worker_hours": {"0": {}}}, "worker_hours.0"),
    ({"worker_hours": {"5": {"start": "17:00", "end": "08:00"}}}, "worker_hours.5.end"),
    ({"worker_hours": {"5": {"weekdays": [True]}}}, "worker_hours.5.weekdays"),
    ({"workers": [1, "x"]}, "workers.1"),
    ({"teams": {"sales": [1]}}, "teams.sales"),
    ({"fixed_slack_min": -1}, "fixed_slack_min"),
    ({"tz": "Nowhere/City"}, "tz"),
])
def test_validate_names_the_bad_value(doc, path):
    with pytest.raises(SettingsError) as e:
        validate(doc)
    assert e.value.path == path and str(e.value).startswith(path)
