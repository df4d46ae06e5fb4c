"""Order numbers from 4 concurrent workers on SQLite and PostgreSQL: each deal numbered once, no number
given twice, none skipped, a deleted deal's number never handed out again, a new year starts at 1, and a
worker racing another for the same deal gets that deal's one number."""
from __future__ import annotations

import threading

from b24app.store import open_store
from rules.ledger import RulesLedger
from rules.model import format_number

WORKERS, PER_WORKER = 4, 40


def _render(y, n):
    return format_number("{yyyy}-{n:05}", y, n)


def test_four_concurrent_workers_number_without_duplicates_or_gaps(db_url):
    stores = [open_store(db_url) for _ in range(WORKERS)]
    try:
        start, got, errors = threading.Barrier(WORKERS), [], []

        def work(w: int) -> None:
            ledger = RulesLedger(stores[w].engine, "portal-a")
            start.wait()
            try:
                for i in range(PER_WORKER):
                    deal = 1 + i * WORKERS + w                      # every worker its own deals...
                    got.append((deal, ledger.assign_number("order", "deal", deal, 2027, _render)["value"]))
                    shared = 10_000 + i                             # ...and all four race for these
                    got.append((shared, ledger.assign_number("order", "deal", shared, 2027, _render)["value"]))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        by_deal: dict[int, set] = {}
        for deal, value in got:
            by_deal.setdefault(deal, set()).add(value)
        assert all(len(v) == 1 for v in by_deal.values())           # a deal has one number, whoever asked
        numbers = sorted(next(iter(v)) for v in by_deal.values())
        total = WORKERS * PER_WORKER + PER_WORKER
        assert len(by_deal) == total and len(set(numbers)) == total  # no number given twice
        assert numbers == [f"2027-{n:05d}" for n in range(1, total + 1)]      # and none skipped

        ledger = RulesLedger(stores[0].engine, "portal-a")
        # deal 1 is deleted in the portal: its number stays taken, the next deal gets a new one
        assert ledger.assign_number("order", "deal", 99_999, 2027, _render)["value"] == f"2027-{total + 1:05d}"
        assert ledger.assign_number("order", "deal", 1, 2027, _render)["value"] == by_deal[1].pop()
        assert ledger.assign_number("order", "deal", 100_000, 2028, _render)["value"] == "2028-00001"
        other = RulesLedger(stores[0].engine, "portal-b")                     # per portal
        assert other.assign_number("order", "deal", 1, 2027, _render)["value"] == "2027-00001"
    finally:
        for s in stores:
            s.close()


def test_the_ledger_claims_an_occurrence_once_and_resumes_a_failed_one(db_url):
    store = open_store(db_url)
    try:
        ledger = RulesLedger(store.engine, "p")
        a = ledger.claim("r", "deal", 1, "C2:PAYMENT@t#1")
        assert a is not None and a.step == 0
        assert ledger.claim("r", "deal", 1, "C2:PAYMENT@t#1") is None        # running elsewhere
        a.advance()
        a.failed("portal said no")
        b = ledger.claim("r", "deal", 1, "C2:PAYMENT@t#1")
        assert b is not None and b.step == 1                                   # resumes after the first action
        b.advance()
        b.done()
        assert ledger.claim("r", "deal", 1, "C2:PAYMENT@t#1") is None        # done is done
        assert ledger.skip("r", "deal", 1, "C2:PAYMENT@t#2") is True
        assert ledger.skip("r", "deal", 1, "C2:PAYMENT@t#2") is False
        assert ledger.claim("r", "deal", 1, "C2:PAYMENT@t#2") is None        # skipped is never acted on
        assert ledger.skip_many("r", "deal", 1, ["C2:PAYMENT@t#2", "C2:PAYMENT@t#3", "C2:PAYMENT@t#4"]) == 2
        assert ledger.skip_many("r", "deal", 1, ["C2:PAYMENT@t#3"]) == 0
        assert ledger.claim("r", "deal", 1, "C2:PAYMENT@t#4") is None
        assert ledger.skip_rows([("r", "deal", 2, "x#1"), ("r", "deal", 2, "x#2"),
                                 ("r", "deal", 1, "C2:PAYMENT@t#4")]) == 2           # the last one was there
        c1, c2 = ledger.claim("r", "deal", 3, "y#1"), ledger.claim("q", "deal", 3, "y#1")
        c1.step, c2.step = 1, 2
        ledger.done_many([c1, c2])                                             # one transaction for a flush
        assert sorted((r["rule_id"], r["status"], r["step"]) for r in ledger.rows(3)) == [("q", "done", 2),
                                                                                        ("r", "done", 1)]
        assert ledger.settled("r", "deal") >= {(2, "x#1"), (3, "y#1"), (1, "C2:PAYMENT@t#4")}
        assert ledger.unfinished() == set()
    finally:
        store.close()
