"""Distances and travel times between points; the matrix every planner in maps/ is built on.

The offline `TravelModel` (straight line × road factor at an average city speed, plus parking) is the
default because it needs no network and is good enough for ordering stops and for "who is nearest";
`OsrmTravelModel` gives real road times from a self-hosted OSRM-compatible router when one exists.
Points are (lat, lon) everywhere in this package.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Protocol, Sequence

import requests

EARTH_RADIUS_KM = 6371.0088


class Point(NamedTuple):
    lat: float
    lon: float


def haversine_km(a: Sequence[float], b: Sequence[float]) -> float:
    """Great-circle distance in km between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class Travel(Protocol):
    """What the schedulers need: driving minutes between two points and a full matrix."""

    def minutes(self, a: Sequence[float], b: Sequence[float]) -> float: ...

    def matrix(self, points: Sequence[Sequence[float]]) -> list[list[float]]: ...


# Closer than this counts as "the same address": no driving, no parking (two flats in one building).
SAME_PLACE_KM = 0.05


class TravelModel:
    """Driving time estimated from the straight line: km × road_factor ÷ speed + parking minutes.

    Defaults fit Moscow-sized cities (detour factor 1.3–1.4, ~25 km/h door to door); parking is the
    fixed cost of every stop (finding a place, walking to the entrance), which is what makes two jobs in
    one building cheaper than two jobs 500 m apart.
    """

    def __init__(self, road_factor: float = 1.3, speed_kmh: float = 25.0, parking_min: float = 5.0):
        if speed_kmh <= 0 or road_factor <= 0:
            raise ValueError("speed_kmh and road_factor must be positive")
        self.road_factor = road_factor
        self.speed_kmh = speed_kmh
        self.parking_min = parking_min

    def road_km(self, a: Sequence[float], b: Sequence[float]) -> float:
        return haversine_km(a, b) * self.road_factor

    def minutes(self, a: Sequence[float], b: Sequence[float]) -> float:
        km = haversine_km(a, b)
        if km < SAME_PLACE_KM:
            return 0.0
        return km * self.road_factor / self.speed_kmh * 60.0 + self.parking_min

    def matrix(self, points: Sequence[Sequence[float]]) -> list[list[float]]:
        return [[self.minutes(a, b) for b in points] for a in points]


class OsrmError(RuntimeError):
    pass


class OsrmTravelModel:
    """Road times from an OSRM-compatible `/table/v1/<profile>/` service (OSRM, or Valhalla/ORS shims).

    One HTTP call per matrix; pairs already seen are remembered so the schedulers' many `minutes()`
    calls do not become many requests. Pairs the router cannot connect (null in the table) fall back to
    the offline estimate, so one bad pin does not break a whole plan. Parking minutes are added like in
    `TravelModel`, because the router only knows driving.
    """

    def __init__(
        self,
        url: str,
        *,
        profile: str = "driving",
        parking_min: float = 5.0,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        fallback: TravelModel | None = None,
    ):
        self.url = url.rstrip("/")
        self.profile = profile
        self.parking_min = parking_min
        self.timeout = timeout
        self.session = session or requests.Session()
        self.fallback = fallback or TravelModel(parking_min=parking_min)
        self._pairs: dict[tuple[tuple[float, float], tuple[float, float]], float] = {}

    def minutes(self, a: Sequence[float], b: Sequence[float]) -> float:
        key = ((a[0], a[1]), (b[0], b[1]))
        if key not in self._pairs:
            self.matrix([a, b])
        return self._pairs[key]

    def matrix(self, points: Sequence[Sequence[float]]) -> list[list[float]]:
        if not points:
            return []
        coords = ";".join(f"{p[1]:.6f},{p[0]:.6f}" for p in points)  # OSRM wants lon,lat
        resp = self.session.get(
            f"{self.url}/table/v1/{self.profile}/{coords}",
            params={"annotations": "duration"},
            timeout=self.timeout,
        )
        try:
            body = resp.json()
        except ValueError as exc:
            raise OsrmError(f"OSRM answered HTTP {resp.status_code} without JSON") from exc
        if resp.status_code != 200 or body.get("code") != "Ok":
            raise OsrmError(f"OSRM table failed: HTTP {resp.status_code} {body.get('code')}: {body.get('message', '')}")
        durations = body["durations"]
        out: list[list[float]] = []
        for i, a in enumerate(points):
            row = []
            for j, b in enumerate(points):
                seconds = durations[i][j]
                if i == j or haversine_km(a, b) < SAME_PLACE_KM:
                    value = 0.0
                elif seconds is None:
                    value = self.fallback.minutes(a, b)
                else:
                    value = seconds / 60.0 + self.parking_min
                row.append(value)
                self._pairs[((a[0], a[1]), (b[0], b[1]))] = value
            out.append(row)
        return out


# --- the portal's coordinates field: "55.751244,37.618423" -------------------------------------
def format_point(lat: float, lon: float) -> str:
    return f"{lat:.6f},{lon:.6f}"


def parse_point(value) -> tuple[float, float] | None:
    """"55.75,37.61" / "55.75;37.61" / "55.75, 37.61" → (lat, lon); anything else → None."""
    parts = str(value or "").replace(";", ",").split(",")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (ValueError, IndexError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None
