"""The sandbox charges a list call like a portal's database would (issue 19): an offset page COUNTs every
candidate row and reads the rows it skips, a keyset page (``start=-1``, ``>ID``) reads about a page, and a
``DATE_MODIFY`` bound reads only its range of the date index. What a call examined is charged as operating
time (``settings.row_cost`` a row), so the per-method limit refuses a portal's worth of offset pages.

Figures here are the sandbox's cost model (rows × row_cost, set large so the handler's own microseconds do
not matter), not wall-clock measurements."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from b24sandbox.demo import deal_row
from b24sandbox.filters import MSK

from .methods_helpers import install, rest

N = 3000
ROW = 0.1           # seconds of operating time per examined row: the handler's own time (≪ 1 s) disappears in it


@pytest.fixture
def tok(cloud, portal, receiver):
    token = install(cloud, portal, receiver.url)
    old = datetime.fromtimestamp(portal.clock.now(), MSK) - timedelta(days=30)
    with portal.db.lock:
        for i in range(N):
            recent = i >= N - 10                                # ten deals changed "now", the rest a month ago
            iso = (datetime.fromtimestamp(portal.clock.now(), MSK) if recent else old).isoformat(timespec="seconds")
            portal.db.deals.insert(deal_row(portal.db, iso, f"Сделка {i}", DATE_MODIFY=iso))
    portal.settings.row_cost = ROW
    portal.settings.operating_limit = 1e9
    return token


def _charged(portal, tok, **params) -> tuple[dict, float]:
    status, body = rest(portal, "crm.deal.list", tok, select=["ID"], **params)
    assert status == 200, body
    return body, body["time"]["processing"]


def test_offset_cost_grows_with_the_offset_keyset_does_not(portal, tok):
    _, first = _charged(portal, tok, start=0)
    body, deep = _charged(portal, tok, start=2500)
    assert body["total"] == N and len(body["result"]) == 50
    # COUNT(N) + the skipped rows + the page, each at ROW seconds; the handler's own time is far below ROW
    assert first == pytest.approx((N + 50) * ROW, abs=ROW * 20)
    assert deep == pytest.approx((N + 2550) * ROW, abs=ROW * 20)
    assert deep - first == pytest.approx(2500 * ROW, abs=ROW * 20)      # the skipped rows
    last = body["result"][0]["ID"]
    keyset, cheap = _charged(portal, tok, start=-1, order={"ID": "ASC"}, filter={">ID": int(last) - 1})
    assert keyset["result"][0]["ID"] == last and "total" not in keyset
    assert cheap == pytest.approx(50 * ROW, abs=ROW * 20)       # a page, wherever it starts


def test_a_date_modify_bound_reads_its_index_range(portal, tok):
    since = (datetime.fromtimestamp(portal.clock.now(), MSK) - timedelta(days=1)).isoformat(timespec="seconds")
    body, cost = _charged(portal, tok, start=-1, order={"ID": "ASC"}, filter={">=DATE_MODIFY": since})
    assert len(body["result"]) == 10
    assert cost < 20 * ROW                                     # ten rows from the index, not N from a scan
    body, scan = _charged(portal, tok, start=-1, order={"ID": "ASC"},
                          filter={">=OPPORTUNITY": 0, "TITLE": "Сделка 2999"})
    assert len(body["result"]) == 1 and scan == pytest.approx(N * ROW, abs=ROW * 20)   # no index: every row


def test_offset_pages_run_into_the_operating_time_limit(portal, tok):
    portal.settings.operating_limit = 480.0
    codes = [rest(portal, "crm.deal.list", tok, select=["ID"], start=s)[0] for s in range(0, 1000, 50)]
    assert 429 in codes and codes[0] == 200                    # (N + 50) × ROW ≈ 305 s a page: 2 pages fill 480 s
    status, body = rest(portal, "crm.deal.list", tok, select=["ID"], start=0)
    assert status == 429 and body["error"] == "OPERATION_TIME_LIMIT"
    status, _ = rest(portal, "crm.deal.get", tok, id=1)
    assert status == 200                                       # the limit is per method
