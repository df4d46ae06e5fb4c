"""Links that hand a day's route to the worker's phone: Yandex Maps (the Russian default) and Google.

Yandex `rtext` takes points as *lat,lon* separated by `~` (unlike `ll`/`pt`, which are lon,lat). No
official maximum of points is published, so long days are split into several links, each starting
where the previous one ended, so the worker just opens the next link on arrival. Google Maps URLs
allow at most 9 waypoints (3 on some mobile apps). Points may also be address strings.
"""
from __future__ import annotations

from typing import Sequence, Union
from urllib.parse import quote, urlencode

Point = Union[Sequence[float], str]

YANDEX_MAPS = "https://yandex.ru/maps/"
GOOGLE_DIR = "https://www.google.com/maps/dir/"
YANDEX_MAX_POINTS = 10
GOOGLE_MAX_WAYPOINTS = 9


def _coord(p: Point) -> str:
    if isinstance(p, str):
        return p.strip()
    lat, lon = p[0], p[1]
    return f"{_num(lat)},{_num(lon)}"


def _num(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".")


def _chunks(points: Sequence[Point], size: int) -> list[list[Point]]:
    """Overlapping chunks of at most `size` points: chunk k+1 starts at chunk k's last point."""
    if size < 2:
        raise ValueError("a route link needs room for at least 2 points")
    pts = list(points)
    if len(pts) <= size:
        return [pts]
    out, i = [], 0
    while i < len(pts) - 1:
        out.append(pts[i:i + size])
        i += size - 1
    return out


def _query(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote, safe=",~")


def yandex_route_links(points: Sequence[Point], max_points: int = YANDEX_MAX_POINTS, *, rtt: str = "auto",
                       from_current_location: bool = False) -> list[str]:
    """Yandex Maps route links (`rtt`: auto | mt | pd | bc). `from_current_location` starts the first
    link at the phone's position (a leading `~`), which is what a worker on the road wants."""
    if not points:
        return []
    links = []
    for k, chunk in enumerate(_chunks(points, max_points)):
        rtext = "~".join(_coord(p) for p in chunk)
        if from_current_location and k == 0:
            rtext = "~" + rtext
        links.append(f"{YANDEX_MAPS}?{_query({'rtext': rtext, 'rtt': rtt})}")
    return links


def yandex_point_link(lat: float, lon: float, zoom: int = 16) -> str:
    """One point on Yandex Maps with a pin (`pt` and `ll` take lon,lat)."""
    ll = f"{_num(lon)},{_num(lat)}"
    return f"{YANDEX_MAPS}?{_query({'pt': ll, 'll': ll, 'z': str(zoom)})}"


def google_route_links(points: Sequence[Point], max_waypoints: int = GOOGLE_MAX_WAYPOINTS) -> list[str]:
    """Google Maps directions links with ≤ `max_waypoints` stops between origin and destination each."""
    if len(points) < 2:
        return []
    links = []
    for chunk in _chunks(points, max_waypoints + 2):
        params = {"api": "1", "origin": _coord(chunk[0]), "destination": _coord(chunk[-1])}
        if len(chunk) > 2:
            params["waypoints"] = "|".join(_coord(p) for p in chunk[1:-1])
        params["travelmode"] = "driving"
        links.append(f"{GOOGLE_DIR}?{_query(params)}")
    return links


def google_route_link(points: Sequence[Point]) -> str:
    """A single Google Maps link; raises when the route needs splitting (use `google_route_links`)."""
    links = google_route_links(points)
    if len(links) != 1:
        raise ValueError(f"{len(points)} points need {len(links)} Google links; use google_route_links()")
    return links[0]


YANDEX_NAVIGATOR = "yandexnavi://build_route_on_map"


def yandex_navigator_link(lat: float, lon: float) -> str:
    """Yandex Navigator's documented URL scheme: a route from where the phone is to ``lat_to,lon_to``
    (the app opens it; without the app installed the phone offers Yandex Maps' link instead)."""
    return f"{YANDEX_NAVIGATOR}?{_query({'lat_to': _num(lat), 'lon_to': _num(lon)})}"


def google_destination_link(point: Point) -> str:
    """Google Maps directions from the phone's position to one stop (no ``origin``: Google starts at the
    device's location)."""
    return f"{GOOGLE_DIR}?{_query({'api': '1', 'destination': _coord(point), 'travelmode': 'driving'})}"
