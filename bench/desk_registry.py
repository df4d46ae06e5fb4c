"""The work-order registry's read: 500 work orders across the five scenario pipelines (every status block in
some state), each at its computed stage — portal HTTP calls and wall time with the sandbox's leaky bucket
on; and the pure stage computation alone."""
from __future__ import annotations

import time

from desk import workorder
from install.apply import install
from install.registry import installed_ids

from .setup import installed_portal

TITLE = "Service desk: the work-order registry of 500 orders (sandbox portal, leaky bucket on)"
N = 500
FLAGS = ("svc_engineer_done", "svc_parts_ordered", "svc_parts_arrived", "svc_mfr_approved", "svc_mechanic_done",
         "svc_act_signed")


def _http(portal, since: int) -> int:
    return sum(1 for r in portal.log[since:] if getattr(r, "via", "http") == "http")


def _seed(b) -> None:
    from b24app.throttle import Throttle

    ids = installed_ids(b.services.store, b.member_id)
    own, b.services.throttle = b.services.throttle, Throttle(burst=10**9, drain=10**9)
    b.portal.settings.rate_limit = False
    try:
        cmds = []
        for i in range(N):
            scenario = workorder.SCENARIOS[i % len(workorder.SCENARIOS)]
            pipe = ids.pipeline(scenario)
            fields = {"TITLE": f"Заказ-наряд {i}", "CATEGORY_ID": pipe.category_id, "STAGE_ID": pipe.stage("new"),
                      "OPPORTUNITY": 1000 + i, ids.deal_field("svc_equipment"): 1 + i % 40,
                      ids.deal_field("svc_engineer"): 1 + i % 3, ids.deal_field("svc_tool_cell"): f"A-{i % 30}",
                      ids.deal_field("svc_mechanic"): (4 + i % 6) if i % 4 else ""}
            for k, flag in enumerate(FLAGS):
                fields[ids.deal_field(flag)] = "Y" if (i >> k) & 1 else "N"
            cmds.append(("crm.deal.add", {"fields": fields}))
        res = b.services.client(b.member_id).batch_many(cmds)
        assert all(r.ok for r in res)
    finally:
        b.services.throttle = own
        b.portal.settings.rate_limit = True
        if hasattr(b.portal.limits, "reset"):
            b.portal.limits.reset()


def run() -> None:
    b = installed_portal()
    try:
        install(b.services, b.member_id)
        _seed(b)
        mark = len(b.portal.log)
        t0 = time.perf_counter()
        out = workorder.registry(b.services, b.member_id)
        wall = time.perf_counter() - t0
        calls = _http(b.portal, mark)
        stages = {}
        for o in out["orders"]:
            stages[o["computed"]] = stages.get(o["computed"], 0) + 1
        st = {"svc_engineer_done": "Y", "svc_engineer": 3, "svc_mfr_approved": "Y", "svc_parts_ordered": "Y",
              "svc_parts_arrived": "Y", "svc_mechanic": 5, "svc_mechanic_done": "Y", "svc_act_signed": "N"}
        t1 = time.perf_counter()
        for i in range(100_000):
            workorder.compute(workorder.SCENARIOS[i % 5], st, bool(i & 1))
        pure = (time.perf_counter() - t1) / 100_000 * 1e6
        print("| orders | portal HTTP calls | wall | stages computed | compute() alone |")
        print("|---|---|---|---|---|")
        print(f"| {len(out['orders'])} | {calls} | {wall:.2f} s | {len(stages)} distinct | {pure:.2f} µs / order |")
    finally:
        b.close()
