"""One scheduler pass of seed 004's time-based rules over a portal with 50,000 open deals (plus 2,000 leads):
portal HTTP calls (keyset reads in batches, notifications in batches of 50) and wall time, with the sandbox's
leaky bucket on — the first pass (thousands of reminders due) and a second one right after (all done: reads
only, nothing sent twice).

Setup (not measured): the preset installed with its pipelines, stages and fields through the portal
(install_structure), a sales department with its head and 20 managers, deals spread over the 10 stages with
MOVED_TIME over the last 40 days, shipment dates around today, the order type half standard/half custom."""
from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

from rules import engine, presets

from .setup import installed_portal

TITLE = ("Deal rules: one scheduler pass over 50,000 open deals (seed 004's time-based rules, sandbox portal, "
         "leaky bucket on)")
N_DEALS, N_LEADS = 50_000, 2_000


def _http(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http")


def _methods(portal, since: int) -> str:
    out: dict[str, int] = {}
    for r in portal.log[since:]:
        if getattr(r, "via", "http") == "http":
            out[r.method] = out.get(r.method, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(out.items(), key=lambda kv: -kv[1]))


def _seed(b, variables: dict, now: datetime, n: int, leads: int) -> None:
    from b24sandbox import demo as sdemo
    from b24sandbox.filters import MSK

    db = b.portal.db
    rng = random.Random(15)
    sales = db.departments.insert({"NAME": "Отдел продаж", "SORT": 510, "PARENT": 1, "UF_HEAD": None})
    head = db.add_user("Ирина", "Руководителева", "head@example.ru", department=sales)
    db.departments.rows[sales]["UF_HEAD"] = head
    managers = [db.add_user(f"Менеджер{i}", "Продаж", f"m{i}@example.ru", department=sales) for i in range(20)]
    stages = [variables[k] for k in ("stage_calc", "stage_approval", "stage_payment", "stage_design", "stage_prod_task",
                                     "stage_production", "stage_ready", "stage_shipment", "stage_install")]
    cat = int(variables["category"])
    iso = lambda d: d.astimezone(MSK).isoformat(timespec="seconds")  # noqa: E731
    with db.lock:
        for i in range(n):
            st = stages[i % len(stages)]
            moved = now - timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
            extra = {"MOVED_TIME": iso(moved), "ASSIGNED_BY_ID": managers[i % 20], "UF_CRM_ORDER_TYPE":
                     "standard" if i % 2 else "custom"}
            if st in (variables["stage_ready"], variables["stage_shipment"]):
                extra["UF_CRM_SHIP_AT"] = iso(now + timedelta(hours=rng.randrange(-72, 72)))
            row = sdemo.deal_row(db, iso(moved), f"Сделка {i}", category_id=cat, stage_id=st,
                                 opportunity=float(rng.randrange(10_000, 900_000, 100)), **extra)
            db.deals.insert(row)
        for i in range(leads):
            t = iso(now - timedelta(minutes=rng.randrange(0, 10 * 24 * 60)))
            db.leads.insert({"TITLE": f"Лид {i}", "STATUS_ID": "NEW" if i % 2 else "IN_PROCESS",
                             "STATUS_SEMANTIC_ID": "P", "ASSIGNED_BY_ID": managers[i % 20], "MOVED_TIME": t,
                             "DATE_CREATE": t, "DATE_MODIFY": t, "CREATED_BY_ID": 1, "MODIFY_BY_ID": 1,
                             "OPENED": "Y", "CURRENCY_ID": "RUB", "OPPORTUNITY": 0.0, "CONTACT_IDS": []})


def run(n: int = N_DEALS, leads: int = N_LEADS) -> None:
    if not os.environ.get("B24APP_ENCRYPTION_KEYS"):      # the store seals the portal's tokens
        from cryptography.fernet import Fernet

        os.environ["B24APP_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    b = installed_portal()
    try:
        own_limit = b.portal.settings.rate_limit
        b.portal.settings.rate_limit = False              # the structure install is setup, not measured
        variables = presets.install_structure(b.services, b.member_id, "seed004_furniture")
        doc = presets.install(b.services, b.member_id, "seed004_furniture", variables)
        b.portal.settings.rate_limit = own_limit
        if hasattr(b.portal.limits, "reset"):
            b.portal.limits.reset()
        now = datetime.now(UTC)
        _seed(b, variables, now, n, leads)
        time_rules = [r.id for r in doc.by_kind(*engine.TIME_KINDS)]
        print(f"Time-based rules in the pass: {len(time_rules)} ({', '.join(time_rules)}); "
              f"{n:,} open deals, {leads:,} leads.\n")
        print("| pass | rows read | fired | skipped (missed repeats) | portal HTTP calls | of them | wall time, s |")
        print("|---|---|---|---|---|---|---|")
        for label in ("first (everything due at once)", "second, right after (all done)"):
            mark, t = len(b.portal.log), time.perf_counter()
            st = engine.sweep(b.services, b.member_id, datetime.now(UTC))
            dt = time.perf_counter() - t
            assert not st.errors or all("nobody to notify" in e[2] for e in st.errors), st.errors[:3]
            print(f"| {label} | {st.read:,} | {len(st.fired):,} | {st.skipped:,} | {_http(b.portal, mark)} | "
                  f"{_methods(b.portal, mark)} | {dt:.1f} |")
    finally:
        b.close()
