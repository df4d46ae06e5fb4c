"""Read 10,000 deals from the sandbox with the rate limit on: our list_all vs fast-bitrix24's get_all."""
from __future__ import annotations

import math
import time

from b24sandbox.demo import seed_deals

from .setup import installed_portal

TITLE = "Reading 10,000 deals (sandbox, leaky bucket 2 req/s burst 50 on)"
N = 10_000
SELECT = ["ID", "TITLE", "STAGE_ID", "CATEGORY_ID", "ASSIGNED_BY_ID"]


def _http_calls(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http")


def _fresh_bucket(portal) -> None:
    """Each contender starts with an empty leaky bucket, like a portal nobody else is calling."""
    portal.limits.reset() if hasattr(portal.limits, "reset") else time.sleep(26)


def run() -> None:
    b = installed_portal()
    try:
        seed_deals(b.portal.db, N)
        floor = math.ceil(N / 2500) + 1
        print("| client | pattern | rows | HTTP calls | floor | wall time, s |")
        print("|---|---|---|---|---|---|")

        _fresh_bucket(b.portal)
        client = b.services.client(b.member_id)
        mark = len(b.portal.log)
        t = time.perf_counter()
        rows = list(client.list_all("crm.deal.list", {"select": SELECT}))
        dt = time.perf_counter() - t
        ids = [int(r["ID"]) for r in rows]
        assert len(ids) == N and ids == sorted(set(ids)), "list_all must return every deal once, in order"
        print(f"| b24app PortalClient.list_all | keyset `>ID`, `start=-1`, chained batch | {len(rows)} | "
              f"{_http_calls(b.portal, mark)} | {floor} | {dt:.2f} |")

        from fast_bitrix24 import Bitrix

        _fresh_bucket(b.portal)
        fb = Bitrix(b.portal.webhook_url, ssl=False, verbose=False)
        mark = len(b.portal.log)
        t = time.perf_counter()
        rows = fb.get_all("crm.deal.list", {"select": SELECT})
        dt = time.perf_counter() - t
        print(f"| fast-bitrix24 {_version()} get_all | offset `start=0,50,…` in batches | {len(rows)} | "
              f"{_http_calls(b.portal, mark)} | {floor} | {dt:.2f} |")
    finally:
        b.close()


def _version() -> str:
    from fast_bitrix24.__version__ import __version__

    return __version__
