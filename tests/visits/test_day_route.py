"""The visits day route over HTTP against the installed app and the sandbox portal: visits with an agreed time
(a non-midnight visit date) start exactly then, date-only visits are ordered for the least driving (checked
against a brute force over every order), the day starts at the manager's start point from the visit
settings (else at the first agreed visit), an agreed visit that cannot be reached is marked late at its
place in the day, and the Yandex link starts at the phone's current position."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import permutations
from urllib.parse import parse_qs, urlparse

import requests

from b24app import session as page_sessions
from tests import pagesession
from install.registry import installed_ids
from maps.geo import TravelModel
from visits import rules
from visits.create import create_visit
from visits.route import DAY_START, VISIT_MINUTES

MANAGER = 4
DAY = "2026-01-21"


def _headers(vs, admin=False):
    return {page_sessions.HEADER: pagesession.for_live(vs.live, page_sessions.PageSession(
        member_id=vs.member_id, user_id=1, lang="ru", is_admin=admin))}


def _route(vs):
    r = requests.get(vs.live.url + f"/api/visits/route?manager={MANAGER}&date={DAY}", headers=_headers(vs), timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _place(vs, n, lat, lon):
    coord_f = installed_ids(vs.live.store, vs.member_id).company_field("coordinates")
    c = vs.company(n)
    vs.client.call("crm.company.update", {"id": c["ID"], "fields": {coord_f: f"{lat},{lon}"}})
    return c["ID"]


def _visit(vs, company_id, hhmm):
    return int(create_visit(vs.services, vs.member_id, company_id, f"{DAY}T{hhmm}", responsible=MANAGER,
                            sync_calendar=False)["id"])


def _brute_force(start, stops, agreed, depart):
    """Least driving over every order of ``stops`` [(visit id, point)] that meets every agreed time."""
    travel, best = TravelModel(), None
    for order in permutations(stops):
        t, drive, at = depart, 0.0, start
        for vid, p in order:
            leg = travel.minutes(at, p)
            drive, t, at = drive + leg, t + timedelta(minutes=leg), p
            if vid in agreed:
                if t > agreed[vid] + timedelta(seconds=1):
                    break
                t = agreed[vid]
            t += timedelta(minutes=VISIT_MINUTES)
        else:
            if best is None or drive < best[0] - 1e-9:
                best = (drive, [vid for vid, _ in order])
    return best


def test_agreed_times_kept_flexible_visits_shortest_from_the_managers_start(visits):
    vs = visits
    tz = rules.settings_of(vs.live.store.kv, vs.member_id).zone
    home = (55.751, 37.618)
    places = {"a": (55.700, 37.500), "b": (55.790, 37.710), "c": (55.720, 37.560), "d": (55.760, 37.690),
              "e": (55.745, 37.600), "f": (55.775, 37.540)}
    cid = {k: _place(vs, 70 + i, *p) for i, (k, p) in enumerate(places.items())}
    times = {"a": "15:00", "b": "11:30"}                       # agreed; the rest are date-only (midnight)
    vid = {k: _visit(vs, cid[k], times.get(k, "00:00")) for k in places}

    # the manager's start point is a visit setting (administrators); a bad one is refused, nothing written
    url = vs.live.url + "/api/visits/settings"
    for bad, says in (({"4": [200, 37.6]}, "вне пределов"), ({"x": [55.7, 37.6]}, "не id пользователя"),
                      ({"4": "55.7"}, "нужны [широта, долгота]")):                  # the session's LANG: ru
        r = requests.post(url, headers=_headers(vs, admin=True), json={"route_starts": bad}, timeout=30)
        assert r.status_code == 400 and says in r.json()["error_description"], r.text
    assert vs.live.store.kv.get(vs.member_id, "visits.route_starts") is None
    r = requests.post(url, headers=_headers(vs), json={"route_starts": {"4": list(home)}}, timeout=30)
    assert r.status_code == 403
    r = requests.post(url, headers=_headers(vs, admin=True), json={"route_starts": {str(MANAGER): list(home)}},
                      timeout=30)
    assert r.status_code == 200 and r.json()["route_starts"] == {str(MANAGER): list(home)}

    doc = _route(vs)
    stops = {s["id"]: s for s in doc["stops"]}
    assert set(stops) == set(vid.values()) and doc["late"] == [] and doc["start"] == list(home)
    for k, hhmm in times.items():                               # agreed visits start exactly at their time
        assert (stops[vid[k]]["agreed"], stops[vid[k]]["start"], stops[vid[k]]["late"]) == (hhmm, hhmm, False)
    assert all(stops[vid[k]]["agreed"] is None and stops[vid[k]]["arrive"] for k in places if k not in times)

    agreed = {vid[k]: datetime.fromisoformat(f"{DAY}T{t}").replace(tzinfo=tz) for k, t in times.items()}
    depart = datetime.fromisoformat(f"{DAY}T{DAY_START:%H:%M}").replace(tzinfo=tz)
    best_drive, _ = _brute_force(home, [(vid[k], places[k]) for k in places], agreed, depart)
    got = [s["id"] for s in doc["stops"]]
    travel = TravelModel()
    at = {vid[k]: places[k] for k in places}
    pts = [home] + [at[i] for i in got]
    assert abs(sum(travel.minutes(p, q) for p, q in zip(pts, pts[1:])) - best_drive) < 1e-6
    assert doc["drive_minutes"] == round(best_drive)
    assert got.index(vid["b"]) < got.index(vid["a"])           # 11:30 before 15:00, whatever lies between
    assert got != sorted(got)                                  # the creation (id) order is not the answer
    # the Yandex link starts at the phone's position (leading "~"), then the stops in route order
    rtext = parse_qs(urlparse(doc["links"][0]).query)["rtext"][0]
    assert rtext.startswith("~")
    first = [float(x) for x in rtext[1:].split("~")[0].split(",")]
    assert abs(first[0] - at[got[0]][0]) < 1e-6 and abs(first[1] - at[got[0]][1]) < 1e-6


def test_no_start_point_starts_at_the_first_agreed_visit_and_marks_the_late_one(visits):
    vs = visits
    far_a, far_b, near = (55.600, 37.400), (55.900, 37.850), (55.610, 37.420)
    ca, cb, cn = _place(vs, 80, *far_a), _place(vs, 81, *far_b), _place(vs, 82, *near)
    flexible = _visit(vs, cn, "00:00")
    first = _visit(vs, ca, "12:00")
    late = _visit(vs, cb, "12:10")          # ~45 km away, ten minutes after a 45-minute visit: cannot be met
    doc = _route(vs)
    assert doc["start"] is None
    stops = {s["id"]: s for s in doc["stops"]}
    assert doc["late"] == [late] and stops[late]["late"] is True and stops[late]["agreed"] == "12:10"
    assert stops[first]["start"] == "12:00" and stops[first]["late"] is False
    order = [s["id"] for s in doc["stops"]]
    assert order.index(first) < order.index(late)               # kept at its agreed place in the day
    assert flexible in order and stops[flexible]["late"] is False
    # the day started at the 12:00 visit's company: the nearby flexible visit is driven to from there
    travel = TravelModel()
    pts = [far_a] + [{first: far_a, flexible: near}[i] for i in order if i != late]
    assert doc["drive_minutes"] == round(sum(travel.minutes(p, q) for p, q in zip(pts, pts[1:])))
