import threading
from types import SimpleNamespace

import pytest
import responses

from maps.geocode import (
    DEFAULT_USER_AGENT, ERROR, MANUAL, NOT_FOUND, OK, Geocoder, InMemoryGeoCache, RateLimiter,
    normalise_address, query_for,
)

NOMINATIM = "https://nominatim.openstreetmap.org/search"


class FakeClock:
    """Time that only moves when someone sleeps; thread-safe enough under the limiter's lock."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


class FakeGeocoder:
    """geopy-shaped geocoder recording the clock at every call."""

    def __init__(self, clock, answers=None, fail=None):
        self.clock, self.answers, self.fail = clock, answers or {}, fail
        self.calls: list[tuple[str, float]] = []

    def geocode(self, query, exactly_one=True, **kwargs):
        self.calls.append((query, self.clock()))
        if self.fail:
            raise self.fail
        hit = self.answers.get(query)
        return None if hit is None else SimpleNamespace(latitude=hit[0], longitude=hit[1], address=query)


@pytest.fixture
def clock():
    return FakeClock()


def make(clock, **kw):
    fake = FakeGeocoder(clock, **kw)
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    return Geocoder(InMemoryGeoCache(), fake, limiter=limiter, now=clock), fake


@pytest.mark.parametrize("a,b", [
    ("г. Москва, ул. Тверская, д. 7", "москва  улица ТВЕРСКАЯ дом 7"),
    ("Россия, 125009, г.Москва, ул.Тверская, д.7, кв. 12", "Москва ул Тверская 7"),
    ("Ёлкино, ул. Зелёная, 12-а", "елкино улица зеленая 12-а"),
    ("Москва, Ленинский проспект, д. 5/2, корп. 1", "москва ленинский пр-т 5/2 к. 1"),
])
def test_normalise_address_variants_meet(a, b):
    assert normalise_address(a) == normalise_address(b)


def test_normalise_address_keeps_what_matters():
    assert normalise_address("Москва, Тверская 7") != normalise_address("Москва, Тверская 9")
    assert normalise_address("Москва, ул. Мира 1") != normalise_address("Москва, пр-т Мира 1")
    assert normalise_address("деревня Кв-ово, 3") == "дер кв-ово 3"  # not mistaken for a flat
    assert query_for("125009, Москва, ул. Тверская, 7, кв. 12") == "Москва, ул. Тверская, 7"


def test_geocoded_once_per_normalised_address(clock):
    g, fake = make(clock, answers={"Москва, ул. Тверская, 7": (55.76, 37.61)})
    r = g.lookup("Москва, ул. Тверская, 7")
    assert r.status == OK and r.point == (55.76, 37.61) and r.provider == "FakeGeocoder"
    again = g.lookup("москва   улица Тверская, д. 7, кв. 5")
    assert again == r and len(fake.calls) == 1


def test_failures_are_cached_and_listed(clock):
    g, fake = make(clock)
    r = g.lookup("Нигдеево, ул. Несуществующая, 1")
    assert r.status == NOT_FOUND and r.point is None
    g.lookup("нигдеево улица несуществующая 1")
    assert len(fake.calls) == 1
    assert [f.address for f in g.failures()] == ["Нигдеево, ул. Несуществующая, 1"]


def test_provider_errors_are_listed_and_retried_later(clock):
    g, fake = make(clock, fail=TimeoutError("read timed out"))
    r = g.lookup("Москва, Тверская 7")
    assert r.status == ERROR and "TimeoutError" in r.error and g.failures() == [r]
    g.lookup("Москва, Тверская 7")
    assert len(fake.calls) == 1  # not immediately: the server may be rate-limiting us
    clock.sleep(3600)
    fake.fail, fake.answers = None, {"Москва, Тверская 7": (55.76, 37.61)}
    assert g.lookup("Москва, Тверская 7").status == OK and g.failures() == []


def test_manual_pin_overrides_and_is_never_replaced(clock):
    g, fake = make(clock, answers={"Москва, ул. Тверская, 7": (55.0, 37.0)})
    assert g.lookup("Москва, ул. Тверская, 7").point == (55.0, 37.0)
    pin = g.set_manual("г. Москва, ул. Тверская, д. 7", 55.7612, 37.6094)
    assert pin.status == MANUAL
    assert g.lookup("Москва, ул. Тверская, 7").point == (55.7612, 37.6094) and len(fake.calls) == 1
    g2, fake2 = make(clock)
    g2.set_manual("Нигдеево 1", 56.0, 38.0)
    assert g2.lookup("нигдеево 1").point == (56.0, 38.0) and fake2.calls == [] and g2.failures() == []


def test_rate_limiter_spaces_calls_a_second_apart(clock):
    answers = {f"Москва, Тверская {i}": (55.7, 37.6) for i in range(5)}
    g, fake = make(clock, answers=answers)
    for address in answers:
        g.lookup(address)
    g.lookup("Москва, Тверская 0")  # a cache hit does not touch the limiter
    stamps = [t for _, t in fake.calls]
    assert len(stamps) == 5
    assert all(b - a >= 1.0 for a, b in zip(stamps, stamps[1:]))
    assert stamps[-1] - stamps[0] == pytest.approx(4.0)


def test_rate_limiter_holds_across_threads_and_geocoders(clock):
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    fake = FakeGeocoder(clock)
    geocoders = [Geocoder(InMemoryGeoCache(), fake, limiter=limiter, now=clock) for _ in range(2)]
    threads = [threading.Thread(target=geocoders[i % 2].lookup, args=(f"Адрес {i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = sorted(t for _, t in fake.calls)
    assert len(stamps) == 8 and all(b - a >= 1.0 for a, b in zip(stamps, stamps[1:]))


@responses.activate
def test_default_provider_is_nominatim_with_our_user_agent():
    responses.get(NOMINATIM, json=[{"lat": "55.7575", "lon": "37.6135", "display_name": "Тверская улица, 7, Москва",
                                    "place_id": 1, "boundingbox": ["55.75", "55.76", "37.61", "37.62"]}])
    g = Geocoder(InMemoryGeoCache(), limiter=RateLimiter(0))
    r = g.lookup("125009, Москва, ул. Тверская, д. 7, кв. 3")
    assert r.status == OK and r.point == (55.7575, 37.6135) and r.provider == "Nominatim"
    assert r.display_name == "Тверская улица, 7, Москва"
    req = responses.calls[0].request
    assert req.headers["User-Agent"] == DEFAULT_USER_AGENT
    assert req.params["q"] == "Москва, ул. Тверская, д. 7" and req.params["accept-language"] == "ru"


@responses.activate
def test_nominatim_empty_answer_and_http_error():
    responses.get(NOMINATIM, json=[])
    g = Geocoder(InMemoryGeoCache(), limiter=RateLimiter(0))
    assert g.lookup("Нигдеево").status == NOT_FOUND
    responses.replace(responses.GET, NOMINATIM, status=429, body="Too Many Requests")
    r = g.lookup("Другой адрес")
    assert r.status == ERROR and r in g.failures()
