"""What an unauthenticated form costs us before any check: the edge's parse (raw field count, werkzeug's
split, PHP-style nesting) of the two attack shapes of issue 11 — 20,000 ``a[]=`` keys and one
10,000-level key — both refused with 400; and the nesting parser's growth with the limits off (linear:
doubling the keys doubles the time; the old parser was quadratic, 5,000 keys took 2.5 s).
``python -m bench form_limits``."""
from __future__ import annotations

import statistics
import time

from werkzeug.exceptions import HTTPException

TITLE = "Form parsing before authentication: refusals and growth"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _edge_ms(app, body: str, runs: int = 30) -> tuple[float, int]:
    """Median milliseconds of ``handlers.common.form()`` on this body, and the status it ended with."""
    from handlers.common import form

    times, status = [], 200
    for _ in range(runs):
        with app.test_request_context("/events", method="POST", data=body, headers=FORM):
            t0 = time.perf_counter()
            try:
                form()
            except HTTPException as exc:
                status = exc.response.status_code if exc.response is not None else exc.code
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), status


def _nesting_ms(n: int, runs: int = 5) -> float:
    from b24app import forms

    pairs = [("a[]", "1")] * n
    times = []
    limit, forms.MAX_FIELDS = forms.MAX_FIELDS, 10**9      # the parser's own growth, past the edge's limit
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            forms.parse_pairs(pairs)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        forms.MAX_FIELDS = limit
    return statistics.median(times)


def run() -> None:
    import tempfile

    from b24app.app import create_app
    from b24app.config import Settings

    with tempfile.TemporaryDirectory() as d:
        app = create_app(Settings(database_url=f"sqlite:///{d}/bench.db"))
        print("| form | bytes | parse at the edge (median of 30) | answer |")
        print("|---|---|---|---|")
        for name, body in (("20,000 `a[]=` keys", "&".join(["a[]=1"] * 20_000)),
                           ("one 10,000-level key", "a" + "[b]" * 10_000 + "=1"),
                           ("a real event (ONCRMDEALUPDATE)", "event=ONCRMDEALUPDATE&data[FIELDS][ID]=5&ts=1"
                                                              "&auth[member_id]=m&auth[application_token]=t")):
            ms, status = _edge_ms(app, body)
            print(f"| {name} | {len(body):,} | {ms:.3f} ms | {status} |")
        print("\n| keys (limits off, parser alone) | median ms | ms per 1,000 keys |")
        print("|---|---|---|")
        for n in (20_000, 40_000, 80_000, 160_000):
            ms = _nesting_ms(n)
            print(f"| {n:,} | {ms:.1f} | {ms / n * 1000:.2f} |")
