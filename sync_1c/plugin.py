"""1C payment sync as a domain: the periodic pull, the 1C push (an inbox job), the paid gate on deal
updates, the two robots, the secrets it stores (re-sealed by rotate-keys) and its HTTP edge."""
from __future__ import annotations

from . import connection, gate, jobs, ledger_store, robots


def plugin(registry) -> None:
    registry.robot("b24app_sync_payments_now", robots.sync_payments_now)
    registry.robot("b24app_check_paid", robots.check_paid)
    registry.every("sync_1c.pull", 600, jobs.pull, connection.INTERVAL_KEY)
    registry.inbox_job(jobs.PUSH_KIND, jobs.PUSH_NAME, jobs.run_push)
    registry.on_event("ONCRMDEALUPDATE", gate.on_deal_update)
    registry.resealer("sync_1c", connection.reseal_all)
    registry.blueprint("handlers.payments")
    registry.metric("b24app_sync_1c_lag_seconds", "Seconds since each connected portal's last good 1C sync: "
                    "the largest and the median, and how many portals have synced at all.", ledger_store.lag)
