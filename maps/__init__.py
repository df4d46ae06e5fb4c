"""Orders map and dispatch: the pure domain core (no Flask, no Bitrix24 calls — plain values in and out).

geo.py (distances, travel models) → schedule.py (free windows, insertion) → dispatch.py (who takes a
job, swap preview, date picker) and routing.py (order of one day's stops); links.py hands routes to
phones; geocode.py turns addresses into points within Nominatim's policy.
"""
