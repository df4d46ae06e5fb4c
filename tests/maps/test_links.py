from urllib.parse import parse_qs, urlsplit

import pytest

from maps.links import google_route_link, google_route_links, yandex_point_link, yandex_route_links

KREMLIN = (55.751244, 37.618423)
VDNKH = (55.826, 37.6377)
SOKOLNIKI = (55.7892, 37.6797)


def points(n):
    return [(55.70 + i * 0.01, 37.50 + i * 0.01) for i in range(n)]


def test_yandex_rtext_is_lat_lon_joined_by_tilde():
    [link] = yandex_route_links([KREMLIN, VDNKH, SOKOLNIKI])
    assert link == "https://yandex.ru/maps/?rtext=55.751244,37.618423~55.826,37.6377~55.7892,37.6797&rtt=auto"
    [link] = yandex_route_links([KREMLIN, VDNKH], from_current_location=True, rtt="mt")
    assert link == "https://yandex.ru/maps/?rtext=~55.751244,37.618423~55.826,37.6377&rtt=mt"


def test_yandex_splits_long_days_and_each_link_starts_where_the_last_ended():
    pts = points(23)
    links = yandex_route_links(pts, max_points=10)
    chunks = [parse_qs(urlsplit(u).query)["rtext"][0].split("~") for u in links]
    assert [len(c) for c in chunks] == [10, 10, 5]
    for a, b in zip(chunks, chunks[1:]):
        assert a[-1] == b[0]
    joined = chunks[0] + [p for c in chunks[1:] for p in c[1:]]
    assert [tuple(round(float(v), 6) for v in s.split(",")) for s in joined] == [
        (round(lat, 6), round(lon, 6)) for lat, lon in pts]
    assert len(yandex_route_links(points(10), max_points=10)) == 1
    assert len(yandex_route_links(points(11), max_points=10)) == 2
    assert yandex_route_links([]) == []


def test_address_points_are_percent_encoded():
    [link] = yandex_route_links(["Москва, ул. Тверская, д. 1", KREMLIN])
    assert " " not in link and "%D0%9C" in link  # "М"
    rtext = parse_qs(urlsplit(link).query)["rtext"][0]
    assert rtext == "Москва, ул. Тверская, д. 1~55.751244,37.618423"


def test_yandex_point_link_is_lon_lat():
    assert yandex_point_link(55.75, 37.62) == "https://yandex.ru/maps/?pt=37.62,55.75&ll=37.62,55.75&z=16"


def test_google_link_origin_destination_and_waypoints():
    link = google_route_link([KREMLIN, VDNKH, SOKOLNIKI, KREMLIN])
    q = parse_qs(urlsplit(link).query)
    assert link.startswith("https://www.google.com/maps/dir/?api=1&")
    assert q["origin"] == ["55.751244,37.618423"] and q["destination"] == ["55.751244,37.618423"]
    assert q["waypoints"] == ["55.826,37.6377|55.7892,37.6797"] and "%7C" in link
    assert q["travelmode"] == ["driving"]
    assert "waypoints" not in google_route_link([KREMLIN, VDNKH])


def test_google_splits_after_nine_waypoints():
    pts = points(15)
    links = google_route_links(pts)
    qs = [parse_qs(urlsplit(u).query) for u in links]
    assert len(links) == 2 and len(qs[0]["waypoints"][0].split("|")) == 9
    assert qs[0]["destination"] == qs[1]["origin"]
    assert qs[1]["destination"][0] == "55.84,37.64"
    assert len(google_route_links(points(11))) == 1
    with pytest.raises(ValueError):
        google_route_link(pts)
