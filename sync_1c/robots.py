"""The 1C robots: ``b24app_sync_payments_now`` (this deal's order synced now, else what 1C last reported)
and ``b24app_check_paid`` (the paid gate's rule; an unpaid deal may be sent back). Declared by
``sync_1c.plugin``."""
from __future__ import annotations

from b24app.robot_runtime import RobotCall, RobotError
from install.params import stage_entity_id
from install.plan import _sem
from install.registry import installed_ids

from . import connection, sync
from .gate import paid_from_1c, paid_state


def _ids(call: RobotCall):
    """What the installer recorded for this portal (ids are discovered, never hard-coded)."""
    return installed_ids(call.services.store, call.member_id)


def _paid(call: RobotCall, deal: dict) -> tuple[float, float, bool]:
    """The gate's rule: the amount 1C reported (our ledger), never the hand-editable deal field."""
    amount, _source = paid_from_1c(call.services, call.member_id, deal, _ids(call), fetch=False)
    field = _ids(call).deal_field("amount_paid")
    paid, total, full = paid_state({**deal, field: amount}, field)
    return float(paid), float(total), bool(full and total > 0)


def sync_payments_now(call: RobotCall):
    deal = call.deal()
    number = str(deal.get(_ids(call).deal_field("order_1c_number")) or "").strip()
    key = str(deal.get(_ids(call).deal_field("order_1c_key")) or "").strip()
    if not number and not key:
        raise RobotError(f"deal {deal['ID']} has no 1C order number; fill «Номер заказа 1С» first")
    try:
        report = sync.run_for_deal(call.services, call.member_id, deal)      # this deal's order only
    except connection.NotConfigured:
        paid, total, full = _paid(call, deal)
        return ({"amount_paid": paid, "paid_in_full": "Y" if full else "N"},
                f"1C order {number}: no 1C connection is configured for this portal, nothing fetched; "
                f"returned what 1C last reported: {paid:.2f} of {total:.2f}")
    except (sync.SyncProblem, sync.SyncIncomplete, sync.ODataError) as exc:
        written = (sync.LedgerStore(call.services.store.engine, call.member_id).deal(int(deal["ID"])) or {})
        last = written.get("written")
        if not last:
            raise RobotError(f"1C sync failed and this deal was never synced: {exc}") from None
        return ({"amount_paid": float(last["amount_paid"]), "paid_in_full": last["paid_in_full"]},
                f"1C order {number or key}: sync failed now ({exc}); returned the last synced amount "
                f"{last['amount_paid']}")
    state = report.deals.get(int(deal["ID"]))
    if state is None:
        review = [r for r in sync.LedgerStore(call.services.store.engine, call.member_id).review()
                  if int(deal["ID"]) in (r["detail"].get("deals") or [])]
        why = f"; needs a person: {review[0]['detail'].get('why')}" if review else \
            (f"; {'; '.join(report.problems)}" if report.problems else "")
        return ({"amount_paid": 0.0, "paid_in_full": "N"},
                f"1C order {number or key}: no 1C payments matched this deal{why}")
    paid, total = float(state["amount_paid"]), float(state["opportunity"])
    return ({"amount_paid": paid, "paid_in_full": state["paid_in_full"]},
            f"1C order {number or key}: synced, paid {state['amount_paid']} of {state['opportunity']}"
            + (" (paid in full)" if state["paid_in_full"] == "Y" else ""))


def return_stage(call: RobotCall, deal: dict, given: str | None) -> str | None:
    """The stage to send an unpaid deal back to: one of our stage keys ("job_done") in the deal's b24app
    pipeline, or a STATUS_ID of the deal's own pipeline (crm.status.list), and not a final stage."""
    if not given:
        return None
    category = int(deal.get("CATEGORY_ID") or 0)
    ours = _ids(call).pipeline_of_category(category)
    wanted = ours.stages.get(given, given) if ours else given
    rows = call.client.call("crm.status.list", {"filter": {"ENTITY_ID": stage_entity_id(2, category)},
                                                "order": {"SORT": "ASC"}}) or []
    row = next((r for r in rows if str(r.get("STATUS_ID")) == wanted), None)
    if row is None:
        open_ids = [str(r.get("STATUS_ID")) for r in rows if _sem(r) == "process"]
        keys = ", ".join(k for k, v in ours.stages.items() if v in open_ids) if ours else ""
        ids = ", ".join(open_ids)
        raise RobotError(f"return stage {given!r} is not a stage of deal {deal['ID']}'s pipeline (category "
                         f"{category}); use " + (f"one of our keys ({keys}) or " if keys else "") + f"one of {ids}")
    if _sem(row) != "process":
        raise RobotError(f"return stage {given!r} is a final stage ({row.get('NAME')}); an unpaid deal must go "
                         f"back to a stage in progress")
    return wanted


def check_paid(call: RobotCall):
    """The same rule as the paid gate (sync_1c.gate): amount paid (from 1C) against OPPORTUNITY."""
    deal = call.deal()
    paid, total, full = _paid(call, deal)
    values = {"paid_in_full": "Y" if full else "N", "shortfall": round(max(total - paid, 0.0), 2)}
    if full:
        return values, f"deal {deal['ID']} is paid in full ({paid:.2f} of {total:.2f})"
    back = return_stage(call, deal, call.prop("return_stage"))
    if back:
        call.client.call("crm.deal.update", {"id": int(deal["ID"]), "fields": {"STAGE_ID": back}})
    return values, (f"deal {deal['ID']} is NOT paid in full: {paid:.2f} of {total:.2f}"
                    + (f"; returned to {back}" if back else "; no return stage set, stage left as is"))
