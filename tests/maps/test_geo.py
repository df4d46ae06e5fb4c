import pytest
import responses

from maps.geo import OsrmError, OsrmTravelModel, TravelModel, haversine_km

RED_SQUARE = (55.7539, 37.6208)
PULKOVO = (59.8003, 30.2625)


def test_haversine_known_distance():
    assert haversine_km(RED_SQUARE, PULKOVO) == pytest.approx(631, abs=5)
    assert haversine_km(RED_SQUARE, RED_SQUARE) == 0


def test_travel_model_minutes_and_matrix():
    m = TravelModel(road_factor=1.3, speed_kmh=25, parking_min=5)
    a, b = (55.75, 37.60), (55.75 + 10 / 111.195, 37.60)  # 10 km north
    assert m.minutes(a, b) == pytest.approx(10 * 1.3 / 25 * 60 + 5, rel=1e-3)  # 36.2 min
    assert m.minutes(a, (55.75, 37.6001)) == 0  # same building: no drive, no parking
    mx = m.matrix([a, b, a])
    assert mx[0][0] == 0 and mx[0][1] == pytest.approx(mx[1][0]) and mx[0][2] == 0


OSRM = "http://osrm.local:5000"


@responses.activate
def test_osrm_table_lon_lat_order_seconds_to_minutes_and_null_fallback():
    a, b, c = (55.75, 37.60), (55.80, 37.65), (55.70, 37.50)
    responses.get(
        f"{OSRM}/table/v1/driving/37.600000,55.750000;37.650000,55.800000;37.500000,55.700000",
        json={"code": "Ok", "durations": [[0, 600, None], [660, 0, 900], [None, 840, 0]]},
    )
    m = OsrmTravelModel(OSRM + "/", parking_min=5)
    mx = m.matrix([a, b, c])
    assert mx[0][1] == 15 and mx[1][0] == 16 and mx[1][2] == 20
    assert mx[0][2] == pytest.approx(TravelModel(parking_min=5).minutes(a, c))
    assert responses.calls[0].request.params == {"annotations": "duration"}
    assert m.minutes(b, c) == 20 and len(responses.calls) == 1  # remembered, no second request


@responses.activate
def test_osrm_error_is_raised():
    responses.get(f"{OSRM}/table/v1/driving/37.600000,55.750000;37.650000,55.800000",
                  json={"code": "InvalidQuery", "message": "bad"}, status=400)
    with pytest.raises(OsrmError, match="InvalidQuery"):
        OsrmTravelModel(OSRM).minutes((55.75, 37.60), (55.80, 37.65))
