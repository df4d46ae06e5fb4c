"""`python -m b24sandbox.onec [--port 8081] [--flavor ut11_4] [--demo]`: a 1C OData endpoint to point a
script, a browser or the sync at, printed with its credentials (Cyrillic login on purpose)."""
from __future__ import annotations

import argparse
import threading

from . import start
from .data import FLAVORS


def seed_demo(ib) -> None:
    """A few orders in two years with the same number, partial payments, a refund and an un-posted receipt."""
    a = ib.add_order("120000.00", "2025-11-10T10:00:00", number="ТД00-000123")
    b = ib.add_order("80000.00", "2026-01-15T12:00:00", number="ТД00-000123")
    ib.add_payment([(a, "50000")], "2025-11-12T09:30:00", purpose="Оплата по заказу № ТД00-000123")
    ib.add_payment([(a, "70000")], "2025-11-20T15:00:00", kind="cash")
    ib.add_payment([(b, "80000")], "2026-01-16T11:00:00", kind="card" if "card" in ib.fl.kinds else "bank")
    ib.add_payment([(b, "5000")], "2026-01-20T11:00:00", kind="refund")
    ib.add_payment([(b, "10000")], "2026-01-21T11:00:00", posted=False)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m b24sandbox.onec")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--flavor", choices=list(FLAVORS), default="ut11_5")
    ap.add_argument("--demo", action="store_true", help="seed demo orders and payments")
    args = ap.parse_args(argv)
    sb = start(args.host, args.port, flavor=args.flavor)
    if args.demo:
        seed_demo(sb.infobase)
    print(f"1C OData sandbox ({args.flavor}): {sb.url}\nuser: {sb.username}\npassword: {sb.password}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sb.shutdown()


if __name__ == "__main__":
    main()
