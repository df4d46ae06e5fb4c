"""Addresses → coordinates, geocoded once and kept forever, within Nominatim's usage policy.

The public Nominatim server allows at most 1 request/s for the whole application, demands an
identifying User-Agent and requires caching (geo reference, section C); Yandex's licence forbids keeping
results, so the default is Nominatim through geopy, swappable for any geopy geocoder (Photon, a
self-hosted Nominatim). The limiter sits *behind* the cache, so cache hits never wait. Failures are
cached too, so nobody hammers the server with an unfixable address and the dispatcher gets a list of
"not on the map" orders to fix — by editing the address or dropping a manual pin, which automatic
geocoding never overwrites.

The cache is the small `GeoCache` interface; `InMemoryGeoCache` is for tests and the embedded mode,
a SQL implementation belongs in b24app/store.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from geopy.geocoders import Nominatim

from b24app.config import Settings

DEFAULT_USER_AGENT = Settings.geocoder_user_agent          # B24APP_GEOCODER_USER_AGENT overrides it

OK, MANUAL, NOT_FOUND, ERROR = "ok", "manual", "not_found", "error"


@dataclass(frozen=True)
class GeoResult:
    """What we know about one address; `lat`/`lon` are None unless status is ok or manual."""

    address: str
    key: str
    status: str
    lat: float | None = None
    lon: float | None = None
    display_name: str = ""
    provider: str = ""
    at: float = 0.0  # unix time of the lookup or the manual pin
    error: str = ""

    @property
    def found(self) -> bool:
        return self.status in (OK, MANUAL)

    @property
    def point(self) -> tuple[float, float] | None:
        return (self.lat, self.lon) if self.found else None


class GeoCache(Protocol):
    """Permanent geocoding cache keyed by the normalised address."""

    def get(self, key: str) -> GeoResult | None: ...

    def put(self, key: str, result: GeoResult) -> None: ...

    def failures(self) -> list[GeoResult]:
        """Addresses that could not be placed (not found or provider errors), oldest first."""
        ...


class InMemoryGeoCache:
    def __init__(self) -> None:
        self._data: dict[str, GeoResult] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> GeoResult | None:
        with self._lock:
            return self._data.get(key)

    def put(self, key: str, result: GeoResult) -> None:
        with self._lock:
            self._data[key] = result

    def failures(self) -> list[GeoResult]:
        with self._lock:
            return sorted((r for r in self._data.values() if not r.found), key=lambda r: r.at)


class RateLimiter:
    """At most one call per `min_interval` seconds across all threads that share this object.

    The lock is held while sleeping on purpose: callers queue up and leave one by one, spaced out.
    `clock` and `sleep` are injectable so tests check the spacing without waiting.
    """

    def __init__(self, min_interval: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._last: float | None = None

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if self._last is not None and now - self._last < self.min_interval:
                self.sleep(self.min_interval - (now - self._last))
                now = self.clock()
            self._last = now


# In-process fallback for a Geocoder built without a limiter (tests, the embedded mode). Deployments use
# ``maps.geocache_sql.SqlRateLimiter`` (maps.geocoding does), so the 1 request/s holds across processes.
NOMINATIM_LIMITER = RateLimiter(1.0)


class Geocoder:
    """Cached, rate-limited geocoding with manual pins.

    `geocoder` is any object with geopy's `geocode(query, **kwargs) -> Location | None`; by default
    geopy's Nominatim with our User-Agent. Provider errors (timeouts, 429) are recorded as failures
    but retried after `retry_errors_after` seconds; "not found" stays until the address is fixed.
    """

    def __init__(self, cache: GeoCache, geocoder: Any = None, user_agent: str = DEFAULT_USER_AGENT, *,
                 limiter: RateLimiter | None = None, geocode_kwargs: dict[str, Any] | None = None,
                 retry_errors_after: float = 3600.0, now: Callable[[], float] = time.time):
        if geocoder is None:
            geocoder = Nominatim(user_agent=user_agent, timeout=10)
            geocode_kwargs = {"language": "ru"} if geocode_kwargs is None else geocode_kwargs
        self.cache = cache
        self.geocoder = geocoder
        self.provider = type(geocoder).__name__
        self.limiter = limiter or NOMINATIM_LIMITER
        self.geocode_kwargs = geocode_kwargs or {}
        self.retry_errors_after = retry_errors_after
        self.now = now
        self._lock = threading.Lock()

    def lookup(self, address: str) -> GeoResult:
        key = normalise_address(address)
        cached = self.cache.get(key)
        if cached is not None and not self._stale(cached):
            return cached
        with self._lock:  # one remote lookup per address even when two threads ask at once
            cached = self.cache.get(key)
            if cached is not None and not self._stale(cached):
                return cached
            result = self._geocode(address, key)
            self.cache.put(key, result)
            return result

    def set_manual(self, address: str, lat: float, lon: float) -> GeoResult:
        """A dispatcher's pin: wins over the geocoder for this address from now on."""
        key = normalise_address(address)
        result = GeoResult(address, key, MANUAL, float(lat), float(lon), provider="manual", at=self.now())
        self.cache.put(key, result)
        return result

    def failures(self) -> list[GeoResult]:
        return self.cache.failures()

    def _stale(self, r: GeoResult) -> bool:
        return r.status == ERROR and self.now() - r.at >= self.retry_errors_after

    def _geocode(self, address: str, key: str) -> GeoResult:
        self.limiter.wait()
        try:
            loc = self.geocoder.geocode(query_for(address), exactly_one=True, **self.geocode_kwargs)
        except Exception as exc:  # noqa: BLE001 - any provider failure is recorded, never raised into a page
            return GeoResult(address, key, ERROR, provider=self.provider, at=self.now(),
                             error=f"{type(exc).__name__}: {exc}")
        if loc is None:
            return GeoResult(address, key, NOT_FOUND, provider=self.provider, at=self.now())
        return GeoResult(address, key, OK, float(loc.latitude), float(loc.longitude),
                         display_name=getattr(loc, "address", "") or "", provider=self.provider, at=self.now())


# --------------------------------------------------------------------------- address normalisation

# Variants of the same address word → one short form (after lower-casing and ё → е).
_WORDS = {
    "город": "г", "гор": "г",
    "улица": "ул",
    "дом": "д",
    "проспект": "пр-кт", "просп": "пр-кт", "пр-т": "пр-кт", "пркт": "пр-кт",
    "переулок": "пер",
    "корпус": "к", "корп": "к", "кор": "к",
    "строение": "стр",
    "область": "обл",
    "площадь": "пл",
    "шоссе": "ш",
    "набережная": "наб",
    "бульвар": "б-р", "бул": "б-р",
    "микрорайон": "мкр", "мкрн": "мкр",
    "поселок": "п", "пос": "п",
    "деревня": "дер",
    "район": "р-н",
    "проезд": "пр-д",
}
# "г." before a city and "д." before a house number are as often left out as written: drop them.
_DROP = {"г", "д"}
_COUNTRY = {"россия", "рф", "российская федерация"}
_FLAT = re.compile(r"\b(кв|квартира|оф|офис|пом|помещение)\b\.?\s*№?\s*\d[\w/-]*", re.IGNORECASE)
_POSTCODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def normalise_address(s: str) -> str:
    """The cache key: the same building written differently gives the same key.

    Lower case, ё → е, punctuation to spaces (keeping "5/2" and "12-а"), common abbreviations unified
    ("ул."/"улица", "пр-т"/"проспект" …), "г."/"д." markers, postcode, country and flat/office
    dropped — a flat number does not move the building and only confuses the geocoder.
    """
    s = s.lower().replace("ё", "е")
    s = _FLAT.sub(" ", s)
    s = _POSTCODE.sub(" ", s)
    s = re.sub(r"[«»\"'()\[\];:,.№]", " ", s)
    s = re.sub(r"(?<=[а-яa-z])(?=\d)|(?<=\d)(?=[а-я]{2,})", " ", s)  # "д5" → "д 5"
    words = [_WORDS.get(w, w) for w in s.split()]
    words = [w for w in words if w not in _DROP]
    text = " ".join(words)
    for country in _COUNTRY:
        text = re.sub(rf"(^| ){country}( |$)", " ", text)
    return " ".join(text.split())


def query_for(address: str) -> str:
    """What is sent to the geocoder: the address as written, minus flat/office and postcode."""
    s = _POSTCODE.sub(" ", _FLAT.sub(" ", address))
    s = re.sub(r"\s*,\s*(,\s*)+", ", ", s)
    return " ".join(s.split()).strip(" ,")


