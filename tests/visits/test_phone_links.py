"""Phone links over HTTP against the installed app: the link comes with a QR code that decodes to it, a
link made by an administrator opens a field worker's session (never an administrator's), and revoking the
link stops new openings and the phone session already open."""
from __future__ import annotations

import json
import re

import requests

from b24app import session as page_sessions
from tests import pagesession

CONFIG = re.compile(r'<script id="b24app-config" type="application/json">(.*?)</script>', re.S)
RECT = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z")


def _modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules an SVG path image draws: qrcode's SvgPathImage writes one unit square per module
    (``Mx,yH(x+1)V(y+1)Hxz``) in a viewBox counted in modules, quiet zone included."""
    d = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    squares = RECT.findall(d)
    assert squares and "".join(f"M{x},{y}H{x2}V{y2}H{x}z" for x, y, x2, y2 in squares) == d, "not a module path"
    assert all(int(x2) == int(x) + 1 and int(y2) == int(y) + 1 for x, y, x2, y2 in squares)
    return {(int(x), int(y)) for x, y, _, _ in squares}


def _matrix(url: str) -> set[tuple[int, int]]:
    """What a QR reader reads back: qrcode's own module matrix for the URL (border 4, as the image)."""
    import qrcode

    q = qrcode.QRCode(border=4)
    q.add_data(url)
    q.make(fit=True)
    return {(x, y) for y, row in enumerate(q.get_matrix()) for x, dark in enumerate(row) if dark}


def _link(live, token: str) -> dict:
    r = requests.post(live.url + "/api/visits/phone-link", headers={page_sessions.HEADER: token}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _open_phone(url: str) -> str:
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return json.loads(CONFIG.search(r.text).group(1))["session"]


def test_the_phone_link_comes_with_a_qr_code_of_that_link(visits):
    live = visits.live
    token = pagesession.for_live(live, page_sessions.PageSession(member_id=visits.member_id, user_id=1, lang="ru"))
    doc = _link(live, token)
    assert doc["url"].startswith(live.url + "/m/") and doc["qr_svg"].startswith("<svg")
    assert _modules(doc["qr_svg"]) == _matrix(doc["url"])
    other = _link(live, token)                                     # each link its own secret and its own code
    assert other["url"] != doc["url"] and _modules(other["qr_svg"]) != _modules(doc["qr_svg"])
    assert "<script" not in doc["qr_svg"] and " on" not in doc["qr_svg"]


def test_an_administrators_phone_link_is_never_an_administrator_and_revoking_it_ends_it(visits):
    live, mid = visits.live, visits.member_id
    admin = pagesession.for_live(live, page_sessions.PageSession(member_id=mid, user_id=1, lang="ru", is_admin=True))
    ah = {page_sessions.HEADER: admin}
    assert requests.get(live.url + "/api/visits/settings", headers=ah, timeout=30).status_code == 200
    doc = _link(live, admin)
    phone = {page_sessions.HEADER: _open_phone(doc["url"])}
    for path in ("/api/visits/settings", "/api/maps/settings", "/api/access/roles"):
        r = requests.get(live.url + path, headers=phone, timeout=30)
        assert r.status_code == 403 and r.json()["error"] == "ROLE_REQUIRED", (path, r.text)
    r = requests.post(live.url + "/api/visits/settings", headers=phone, json={"visited_period": "month"}, timeout=30)
    assert r.status_code == 403
    assert requests.post(live.url + "/api/visits/phone-link", headers=phone, timeout=30).status_code == 403
    assert requests.get(live.url + "/api/visits/month", headers=phone, timeout=30).status_code == 200   # own visits
    # revoked from the settings: no new opening, and the phone session already open stops at once
    second = _open_phone(doc["url"])
    r = requests.delete(live.url + f"/api/access/phone-links/{doc['id']}", headers=ah, timeout=30)
    assert r.status_code == 200 and r.json() == {"revoked": True}
    r = requests.get(doc["url"], timeout=30)
    assert r.status_code == 401 and "отозвана" in r.text                   # in the link's own language
    unknown = doc["url"].rsplit("/", 1)[0] + "/" + "x" * 40
    r = requests.get(unknown, headers={"Accept-Language": "en-US,en;q=0.9"}, timeout=30)
    assert r.status_code == 401 and "does not exist or was revoked" in r.text   # the phone's own language
    assert "отозвана" in requests.get(unknown, headers={"Accept-Language": "ru"}, timeout=30).text
    for h in (phone, {page_sessions.HEADER: second}):
        r = requests.get(live.url + "/api/visits/month", headers=h, timeout=30)
        assert r.status_code == 401, r.text
    links = requests.get(live.url + "/api/access/phone-links", headers=ah, timeout=30).json()["links"]
    assert [x["revoked"] for x in links if x["id"] == doc["id"]] == [True]
