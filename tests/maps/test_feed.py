"""The map's JSON (compact rows, colours, filters), the SQL geocoding cache and background geocoding."""
from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest
import responses
import sqlalchemy as sa

from b24app.config import Settings
from b24app.store import open_store
from maps import feed, geocoding, jobcache, mapstate
from maps.geocache_sql import SqlGeoCache, failed_records
from maps.geocode import ERROR, MANUAL, NOT_FOUND, OK, GeoResult
from maps.orders import OrderJob, job_from_deal
from install.registry import InstalledIds


def job(i, worker=None, start=None, pipeline="measurements", stage="new", point=(55.7, 37.6), **kw):
    return OrderJob(id=i, title=kw.get("title", f"Замер {i}"), pipeline=pipeline, stage=stage,
                    stage_id=f"C1:{stage.upper()}", stage_color="#39A8EF", worker_id=worker, start=start,
                    duration_min=60, address=kw.get("address", "Москва, ул. Арбат, 1"), point=point,
                    company_id=None, contact_id=None, client=kw.get("client", "ООО «Окна»"),
                    worker="Алексей Смирнов" if worker else "")


def test_rows_are_compact_and_not_escaped():
    evil = '<img src=x onerror=alert(1)>'
    doc = feed.build([job(1, title=evil), job(2, worker=4, start=datetime(2026, 5, 14, 10, 30)),
                      job(3, point=None)], version=7)
    rows = [dict(zip(doc["columns"], r)) for r in doc["rows"]]
    assert doc["version"] == 7 and doc["total"] == 3 and len(rows) == 2
    assert rows[0]["title"] == evil                      # data stays data; the page uses textContent
    assert rows[0]["color"] == feed.UNASSIGNED_COLOR and rows[0]["assigned"] == 0
    assert rows[1]["color"] == "#39A8EF" and rows[1]["worker"] == 4 and rows[1]["time"] == "2026-05-14T10:30"
    assert doc["workers"] == {"4": "Алексей Смирнов"}
    assert doc["unplaced"] == [{"id": 3, "title": "Замер 3", "address": "Москва, ул. Арбат, 1"}]
    # 10k rows: positional rows cost well under 200 bytes a job
    big = feed.build([job(i) for i in range(10_000)])
    assert len(json.dumps(big, ensure_ascii=False).encode()) < 200 * 10_000


def test_filters():
    jobs = [job(1), job(2, worker=4, start=datetime(2026, 5, 14, 9)), job(3, worker=5, start=datetime(2026, 5, 15, 9)),
            job(4, pipeline="production"), job(5, pipeline="installation", stage="scheduled", worker=4)]
    ids = lambda js: [j.id for j in js]  # noqa: E731
    assert ids(feed.filter_jobs(jobs)) == [1, 2, 3, 5]                      # production only when picked
    assert ids(feed.filter_jobs(jobs, pipeline="all")) == [1, 2, 3, 4, 5]
    assert ids(feed.filter_jobs(jobs, pipeline="production")) == [4]
    assert ids(feed.filter_jobs(jobs, day=date(2026, 5, 14))) == [1, 2, 5]   # undated ones still need a date
    assert ids(feed.filter_jobs(jobs, worker="none")) == [1]
    assert ids(feed.filter_jobs(jobs, worker="4")) == [2, 5]
    assert ids(feed.filter_jobs(jobs, stage="scheduled")) == [5]


IDS = {"pipelines": {"measurements": {"categoryId": 1, "stages": {"new": "C1:NEW", "scheduled": "C1:SCHEDULED"}}},
       "deal_fields": {k: f"UF_CRM_B24APP_{k.upper()}" for k in
                       ("worker", "job_at", "job_duration", "job_address", "coordinates")},
       "company_fields": {"coordinates": "UF_CRM_B24APP_COORDINATES"}}


def test_job_from_deal_uses_installed_ids():
    ids = InstalledIds("m1", IDS)
    deal = {"ID": "5", "TITLE": "Замер", "CATEGORY_ID": "1", "STAGE_ID": "C1:SCHEDULED", "COMPANY_ID": "3",
            "UF_CRM_B24APP_WORKER": "4", "UF_CRM_B24APP_JOB_AT": "2026-05-14T10:00:00+03:00",
            "UF_CRM_B24APP_JOB_DURATION": "", "UF_CRM_B24APP_COORDINATES": "55.7,37.6"}
    j = job_from_deal(deal, ids)
    assert (j.id, j.stage, j.worker_id, j.point, j.duration_min) == (5, "scheduled", 4, (55.7, 37.6), 60)
    assert j.stage_color == "#39A8EF" and j.start.hour == 10
    assert job_from_deal({**deal, "CATEGORY_ID": "0"}, ids) is None


def test_sql_geocache_shared_answers_and_per_portal_pins(sqlite_url):
    store = open_store(sqlite_url)
    a, b = SqlGeoCache(store.engine, "A"), SqlGeoCache(store.engine, "B")
    a.put("k1", GeoResult("ул. Арбат 1", "k1", OK, 55.75, 37.59, provider="Nominatim", at=1.0))
    assert b.get("k1").point == (55.75, 37.59)                       # one answer for every portal
    a.put("k1", GeoResult("ул. Арбат 1", "k1", MANUAL, 55.0, 37.0, provider="manual", at=2.0))
    assert a.get("k1").status == MANUAL and b.get("k1").status == OK
    b.put("k2", GeoResult("нет такого", "k2", NOT_FOUND, at=3.0))
    assert [r.key for r in SqlGeoCache(store.engine).failures()] == ["k2"]
    assert mapstate.version(store.engine, "A") == 0
    assert mapstate.bump(store.engine, "A") == 1 and mapstate.bump(store.engine, "A") == 2
    store.portals.forget("A")
    assert a.get("k1").status == OK and mapstate.version(store.engine, "A") == 0
    store.close()


class FakeClient:
    def __init__(self, rows):
        self.rows, self.updates = rows, []

    def call(self, method, params):
        entity = method.split(".")[1]
        if method.endswith(".get"):
            return dict(self.rows[(entity, int(params["id"]))])
        if method.endswith(".update"):
            self.updates.append((entity, params["id"], params["fields"]))
            self.rows[(entity, int(params["id"]))].update(params["fields"])
            return True
        raise AssertionError(method)


class FakeServices:
    def __init__(self, store, client):
        self.store, self._client = store, client
        self.settings = Settings()

    def client(self, member_id):
        return self._client


@pytest.fixture
def nominatim(monkeypatch):
    from maps.geocode import RateLimiter

    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    with responses.RequestsMock() as rsps:
        yield rsps


def test_deal_geocoded_once_written_only_when_changed(sqlite_url, nominatim):
    store = open_store(sqlite_url)
    from install.apply import KV_KEY

    store.kv.set("m1", KV_KEY, IDS)
    client = FakeClient({("deal", 5): {"ID": "5", "CATEGORY_ID": "1", "STAGE_ID": "C1:NEW",
                                       "UF_CRM_B24APP_JOB_ADDRESS": "Москва, ул. Арбат, д. 1, кв. 5",
                                       "UF_CRM_B24APP_COORDINATES": ""},
                         ("deal", 6): {"ID": "6", "CATEGORY_ID": "1", "STAGE_ID": "C1:NEW",
                                       "UF_CRM_B24APP_JOB_ADDRESS": "Нигде, ул. Несуществующая",
                                       "UF_CRM_B24APP_COORDINATES": ""},
                         ("deal", 7): {"ID": "7", "CATEGORY_ID": "9", "UF_CRM_B24APP_JOB_ADDRESS": "Москва"}})
    svc = FakeServices(store, client)
    search = re.compile(r"https://nominatim\.openstreetmap\.org/search.*")
    nominatim.get(search, json=[{"lat": "55.7516", "lon": "37.5915", "display_name": "Арбат, 1, Москва",
                                 "place_id": 1}])
    geocode = lambda i: geocoding.geocode_record(svc, "m1", "deal", i)  # noqa: E731 - what maps/refresh runs per deal
    geocoding.on_deal_event(svc, "m1", {"event": "ONCRMDEALUPDATE", "data": {"FIELDS": {"ID": "5"}}})
    assert not client.updates and not nominatim.calls        # the event only marks the deal for the refresh
    assert store.inbox.counts("m1").get("pending") == 1
    geocode(5)
    assert client.updates == [("deal", 5, {"UF_CRM_B24APP_COORDINATES": "55.751600,37.591500"})]
    assert "%D0%90%D1%80%D0%B1%D0%B0%D1%82" in nominatim.calls[0].request.url   # "Арбат", flat dropped
    geocode(5)                                               # our own update comes back: no lookup, no write
    assert len(client.updates) == 1 and len(nominatim.calls) == 1

    nominatim.replace(responses.GET, search, json=[])
    geocode(6)
    assert len(client.updates) == 1
    assert [(r["entity_id"], r["status"]) for r in failed_records(store.engine, "m1")] == [(6, NOT_FOUND)]
    geocode(7)                                               # not our pipeline: no quota spent
    assert len(nominatim.calls) == 2
    with store.engine.connect() as c:                        # the written deal is read again into the map
        assert list(c.execute(sa.select(jobcache.t_dirty.c.deal_id))) == [(5,)]
    store.close()


def test_provider_error_recorded_not_raised(sqlite_url, nominatim):
    from install.apply import KV_KEY

    store = open_store(sqlite_url)
    store.kv.set("m1", KV_KEY, IDS)
    client = FakeClient({("company", 3): {"ID": "3", "ADDRESS": "ул. Тверская, 5", "ADDRESS_CITY": "Москва",
                                          "UF_CRM_B24APP_COORDINATES": ""}})
    nominatim.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), status=503)
    res = geocoding.geocode_record(FakeServices(store, client), "m1", "company", 3)
    assert res.status == ERROR and not client.updates
    assert failed_records(store.engine, "m1")[0]["entity"] == "company"
    store.close()
