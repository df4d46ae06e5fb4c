"""Orders map and dispatch.

The pure core (no Flask, no Bitrix24 calls — plain values in and out): geo.py (distances, travel models)
→ schedule.py (free windows, insertion) → dispatch.py (who takes a job, swap preview, date picker) and
routing.py (order of one day's stops); links.py hands routes to phones; geocode.py turns addresses into
points within Nominatim's policy.

On top of it, the portal side (issue 4): geocache_sql.py (the GeoCache on our store, ``maps`` Alembic
branch) and geocoding.py (inbox handlers that geocode deals/companies once and write the coordinates
back only when they changed); orders.py (current jobs from deals through the installed ids) → service.py
(per-portal cache by change version, settings, team) → feed.py (the map's compact JSON) and assign.py
(candidates, one-batch assignment, worker day, slots, route links); mapstate.py (version, job facts);
strings.py (ru/en UI). Edges: handlers/maps.py; page: templates/maps/orders_map.html + static/maps/.
"""
