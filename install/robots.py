"""Robot dispatch: one handler per robot in app.json, ``fn(ctx) -> RETURN_VALUES``, answered through
``bizproc.event.send`` (reference §4.3–4.4).

Why an answer on every path: a robot with USE_SUBSCRIPTION=Y waits until it is answered, so a bad call
must still answer — with a LOG_MESSAGE the admin reads in the automation log — rather than hang the
deal's automation. An answer is remembered per ``event_token`` before it is sent, so an inbox retry
after a crash re-sends the same answer and does not create a second Visit. Ids come from the installed
registry, never from constants. Robots whose domain logic lands in later issues do what is possible now
and say exactly what they did not do.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from b24app.errors import B24Error

from .manifest import load
from .registry import NotInstalled, installed_ids

log = logging.getLogger("b24app.install.robots")
ANSWER_KEY = "robot_answer:"
JOB_START_KEY = "job_started:"


class RobotError(ValueError):
    """A bad robot call: the message goes to the robot's log, the robot gets no return values."""


@dataclass
class RobotCall:
    services: object
    member_id: str
    code: str
    payload: dict
    robot: dict                      # the app.json entry

    @property
    def client(self):
        return self.services.client(self.member_id)

    @property
    def ids(self):
        return installed_ids(self.services.store, self.member_id)

    def document(self) -> tuple[str, int]:
        """``document_id[2]`` = "DEAL_12" / "COMPANY_5" / "DYNAMIC_128_7" → ("DEAL", 12)."""
        doc = self.payload.get("document_id")
        raw = str(doc[2] if isinstance(doc, list) and len(doc) > 2 else (doc or {}).get("2", "")
                  if isinstance(doc, dict) else doc or "")
        kind, _, num = raw.rpartition("_")
        if not kind or not num.isdigit():
            raise RobotError(f"unexpected document_id {raw!r}")
        return kind, int(num)

    def deal(self) -> dict:
        kind, did = self.document()
        if kind != "DEAL":
            raise RobotError(f"works on deals only, got {kind}_{did}")
        try:
            return self.client.call("crm.deal.get", {"id": did})
        except B24Error as exc:
            if exc.status and exc.status < 500 and exc.code != "TRANSPORT_ERROR":
                raise RobotError(f"deal {did} cannot be read: {exc.description or exc.code}") from exc
            raise

    def prop(self, key: str):
        """A property converted to the manifest's type; '' and missing mean None."""
        spec = self.robot["properties"][key]
        value = (self.payload.get("properties") or {}).get(key)
        if isinstance(value, str) and value.strip().startswith("{="):
            value = None            # an expression the portal left unresolved (e.g. a robot-designer default)
        if spec.get("multiple"):
            items = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            out = [_convert(spec, key, v) for v in items if v not in (None, "")]
            if spec.get("required") and not out:
                raise RobotError(f"property {key!r} is required")
            return out
        out = None if value in (None, "", []) else _convert(spec, key, value)
        if out is None and spec.get("required"):
            raise RobotError(f"property {key!r} is required")
        return out


def _convert(spec: dict, key: str, v):
    t = spec["type"]
    s = str(v).strip()
    try:
        if t == "user":
            return int(s.removeprefix("user_"))      # the portal sends users as "user_<id>"
        if t == "int":
            return int(s)
        if t == "double":
            return float(s.replace(",", "."))
        if t == "bool":
            return s.upper() in ("Y", "1", "TRUE")
        if t in ("date", "datetime"):
            for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
                try:
                    return datetime.strptime(s, fmt).isoformat()
                except ValueError:
                    pass
            return datetime.fromisoformat(s).isoformat()
        if t == "select" and s not in spec["options"]:
            raise ValueError(f"not one of {sorted(spec['options'])}")
    except ValueError as exc:
        raise RobotError(f"property {key!r}: {v!r} is not a valid {t} ({exc})") from None
    return s


def _facts():
    """maps.mapstate: actual start/finish per job, for travel and on-site statistics."""
    from maps import mapstate

    return mapstate


def _int_or_none(v):
    try:
        return int(v) or None
    except (TypeError, ValueError):
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _move_deal(call: RobotCall, deal: dict, stage_key: str, extra: dict | None = None) -> tuple[str, str]:
    pipeline = call.ids.pipeline_of_category(int(deal.get("CATEGORY_ID") or 0))
    if pipeline is None:
        raise RobotError(f"deal {deal['ID']} is not in a b24app pipeline (Measurements, Production, Installation)")
    if stage_key not in pipeline.stages:
        raise RobotError(f"pipeline {pipeline.key} has no {stage_key!r} stage")
    stage = pipeline.stage(stage_key)
    call.client.call("crm.deal.update", {"id": int(deal["ID"]), "fields": {"STAGE_ID": stage, **(extra or {})}})
    return stage, pipeline.key


# --- handlers: fn(call) -> (RETURN_VALUES, LOG_MESSAGE) ---------------------------------------------------
def start_job(call: RobotCall):
    deal, worker = call.deal(), call.prop("worker")
    extra = {call.ids.deal_field("worker"): worker} if worker else {}
    stage, pipeline = _move_deal(call, deal, "job_started", extra)
    started = _now().isoformat()
    call.services.store.kv.set(call.member_id, JOB_START_KEY + str(deal["ID"]), started)
    _facts().job_started(call.services.store.engine, call.member_id, int(deal["ID"]),
                         datetime.fromisoformat(started), worker or _int_or_none(deal.get(call.ids.deal_field("worker"))))
    return {"started_at": started, "stage_id": stage}, f"deal {deal['ID']} ({pipeline}) → {stage}, started {started}"


def finish_job(call: RobotCall):
    deal = call.deal()
    stage, pipeline = _move_deal(call, deal, "job_done")
    finished = _now()
    started = call.services.store.kv.get(call.member_id, JOB_START_KEY + str(deal["ID"]))
    values = {"finished_at": finished.isoformat(), "stage_id": stage}
    note = "start time unknown (no Start job robot ran), duration not measured"
    if started:
        values["actual_minutes"] = int((finished - datetime.fromisoformat(started)).total_seconds() // 60)
        note = f"{values['actual_minutes']} min since {started}"
    _facts().job_finished(call.services.store.engine, call.member_id, int(deal["ID"]), finished,
                          values.get("actual_minutes"))
    return values, f"deal {deal['ID']} ({pipeline}) → {stage}; {note}"


def create_visit(call: RobotCall):
    """The robot's inputs → visits.create (one shape for visits from every entry point)."""
    from visits.create import CreateError
    from visits.create import create_visit as create

    company_id, when = _visit_company(call), call.prop("visit_date")
    try:
        item = create(call.services, call.member_id, company_id, when, call.prop("visit_type") or "planned",
                      call.prop("purpose"), call.prop("responsible"))
    except CreateError as exc:
        raise RobotError(str(exc)) from exc
    return {"visit_id": item["id"]}, f"visit {item['id']} created for company {company_id} on {when} (draft)"


def _visit_company(call: RobotCall) -> int:
    """The ``company_id`` property; when the portal left its default ``{=Document:ID}`` unresolved (or it is
    empty), the company the robot runs on — ``document_id`` ``COMPANY_5`` (or a deal's company)."""
    given = call.prop("company_id")             # None when empty or an unresolved {=…} expression
    if given:
        return given
    kind, num = call.document()
    if kind == "COMPANY":
        return num
    if kind == "DEAL":
        company = _int_or_none(call.deal().get("COMPANY_ID"))
        if company:
            return company
        raise RobotError(f"deal {num} has no company: set the robot's company_id")
    raise RobotError(f"company_id is not set and the robot runs on {kind}_{num}, not on a company")


def _child(call: RobotCall, key: str, ret: str, extra: dict):
    deal = call.deal()
    sp = call.ids.smart_process(key)
    fields = {"title": f"{deal.get('TITLE') or 'Deal'} #{deal['ID']}", "categoryId": sp.category_id,
              "stageId": sp.stage("new"), "parentId2": int(deal["ID"]), "assignedById": call.prop("engineer"),
              sp.field("engineer"): call.prop("engineer")}
    if deal.get("COMPANY_ID") and str(deal["COMPANY_ID"]) != "0":
        fields["companyId"] = int(deal["COMPANY_ID"])
    for prop, field in extra.items():
        if call.prop(prop):
            fields[sp.field(field)] = call.prop(prop)
    item = call.client.call("crm.item.add", {"entityTypeId": sp.entity_type_id, "fields": fields})["item"]
    return {ret: item["id"]}, f"{key} {item['id']} created for deal {deal['ID']}, engineer {call.prop('engineer')}"


def send_to_calculation(call: RobotCall):
    return _child(call, "calculation", "calculation_id", {"comment": "notes"})


def order_work(call: RobotCall):
    return _child(call, "work", "work_id", {"contract": "contract", "comment": "report"})


def assign_nearest_worker(call: RobotCall):
    """Ranks the candidates by the extra driving the job costs each (maps.assign) and assigns the best one
    that is free at the job time: deal worker field, calendar event and task, in one batch."""
    from maps.assign import AssignError, auto_assign

    deal, candidates = call.deal(), call.prop("candidates")
    coords = str(deal.get(call.ids.deal_field("coordinates")) or "").strip()
    try:
        lat, lon = (float(x) for x in coords.replace(";", ",").split(",")[:2])
    except ValueError:
        raise RobotError(f"deal {deal['ID']} has no address coordinates ('{coords}'); geocode the address first") \
            from None
    job_at = call.prop("job_at")
    try:
        done = auto_assign(call.services, call.member_id, int(deal["ID"]), candidates,
                           datetime.fromisoformat(job_at) if job_at else None, lang="en")
    except AssignError as exc:
        raise RobotError(exc.description) from None
    if done is None:
        return {}, (f"not assigned: none of {len(candidates)} candidate(s) has a free window for deal {deal['ID']} "
                    f"at {lat:.5f},{lon:.5f}")
    values = {"worker_id": done["worker_id"]}
    if done.get("distance_km") is not None:
        values["distance_km"] = done["distance_km"]
    return values, (f"deal {deal['ID']} assigned to {done['worker']} (user {done['worker_id']}) at {done['start']}: "
                    f"{done['reason']}; calendar event {done['event_id']}, task {done['task_id']}")


def _paid(call: RobotCall, deal: dict) -> tuple[float, float, bool]:
    from sync_1c.gate import paid_state

    paid, total, full = paid_state(deal, call.ids.deal_field("amount_paid"))
    return float(paid), float(total), bool(full and total > 0)


def sync_payments_now(call: RobotCall):
    from sync_1c import connection, sync

    deal = call.deal()
    number = str(deal.get(call.ids.deal_field("order_1c_number")) or "").strip()
    key = str(deal.get(call.ids.deal_field("order_1c_key")) or "").strip()
    if not number and not key:
        raise RobotError(f"deal {deal['ID']} has no 1C order number; fill «Номер заказа 1С» first")
    try:
        report = sync.run(call.services, call.member_id)
    except connection.NotConfigured:
        paid, total, full = _paid(call, deal)
        return ({"amount_paid": paid, "paid_in_full": "Y" if full else "N"},
                f"1C order {number}: no 1C connection is configured for this portal, nothing fetched; "
                f"returned the deal's current amount paid {paid:.2f} of {total:.2f}")
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
        why = f"; needs a person: {review[0]['detail'].get('why')}" if review else ""
        return ({"amount_paid": 0.0, "paid_in_full": "N"},
                f"1C order {number or key}: no 1C payments matched this deal{why}")
    paid, total = float(state["amount_paid"]), float(state["opportunity"])
    return ({"amount_paid": paid, "paid_in_full": state["paid_in_full"]},
            f"1C order {number or key}: synced, paid {state['amount_paid']} of {state['opportunity']}"
            + (" (paid in full)" if state["paid_in_full"] == "Y" else ""))


def check_paid(call: RobotCall):
    """The same rule as the paid gate (sync_1c.gate): amount paid (from 1C) against OPPORTUNITY."""
    deal = call.deal()
    paid, total, full = _paid(call, deal)
    values = {"paid_in_full": "Y" if full else "N", "shortfall": round(max(total - paid, 0.0), 2)}
    if full:
        return values, f"deal {deal['ID']} is paid in full ({paid:.2f} of {total:.2f})"
    back = call.prop("return_stage")
    if back:
        call.client.call("crm.deal.update", {"id": int(deal["ID"]), "fields": {"STAGE_ID": back}})
    return values, (f"deal {deal['ID']} is NOT paid in full: {paid:.2f} of {total:.2f}"
                    + (f"; returned to {back}" if back else "; no return stage set, stage left as is"))


HANDLERS: dict[str, Callable[[RobotCall], tuple[dict, str]]] = {
    "b24app_start_job": start_job, "b24app_finish_job": finish_job, "b24app_create_visit": create_visit,
    "b24app_assign_nearest_worker": assign_nearest_worker, "b24app_send_to_calculation": send_to_calculation,
    "b24app_order_work": order_work, "b24app_sync_payments_now": sync_payments_now,
    "b24app_check_paid": check_paid,
}


def handle_robot(services, member_id: str, payload: dict) -> dict:
    """The inbox handler for every robot: run it, answer via bizproc.event.send, return RETURN_VALUES.

    Portal/transport failures propagate so the inbox retries; a bad call is answered with its error."""
    token = str(payload.get("event_token") or "")
    code = str(payload.get("code") or "")
    kv = services.store.kv
    answer = kv.get(member_id, ANSWER_KEY + token) if token else None
    if answer is None:
        try:
            robot = load().robot(code)
            fn = HANDLERS[code]
        except KeyError:
            answer = {"values": {}, "log": f"b24app: unknown robot {code!r}"}
        else:
            name = robot["name"]["en"]
            try:
                call = RobotCall(services, member_id, code, payload, robot)
                for key in robot["properties"]:     # every input checked before anything is touched
                    call.prop(key)
                values, message = fn(call)
                answer = {"values": values, "log": f"b24app {name}: {message}"}
            except (RobotError, NotInstalled) as exc:
                answer = {"values": {}, "log": f"b24app {name}: error: {exc}"}
                log.warning("robot %s on %s: %s", code, member_id, exc)
        if token:
            kv.set(member_id, ANSWER_KEY + token, answer)
    if token and payload.get("use_subscription", "Y") != "N":
        params = {"EVENT_TOKEN": token, "LOG_MESSAGE": answer["log"]}
        if answer["values"]:
            params["RETURN_VALUES"] = answer["values"]
        services.client(member_id).call("bizproc.event.send", params)
    return answer["values"]


def register(handlers: dict | None = None) -> dict:
    """Put every manifest robot into the inbox registry (``robot:<code>``); call once at start-up."""
    if handlers is None:
        from b24app.inbox import EVENT_HANDLERS as handlers
    for robot in load().robots:
        handlers[f"robot:{robot['code']}"] = handle_robot
    return handlers
