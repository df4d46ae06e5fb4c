"""Robot dispatch: one handler per robot in app.json, ``fn(ctx) -> RETURN_VALUES``, answered through
``bizproc.event.send`` (reference §4.3–4.4).

Why an answer on every path: a robot with USE_SUBSCRIPTION=Y waits until it is answered, so a bad call
must still answer — with a LOG_MESSAGE the admin reads in the automation log — rather than hang the
deal's automation. A portal that refuses a write (4xx: ACCESS_DENIED, NOT_FOUND, a validation error)
will refuse it again, so that is answered at once as a robot error; only transient failures (no answer,
5xx, QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT) go back to the inbox for a retry, and when the inbox
gives up for good ``robot_gave_up`` still answers the workflow. An answer is remembered per
``event_token`` before it is sent (expired after ``ANSWER_DAYS`` by the ``install.robot_answers`` job),
so an inbox retry after a crash re-sends the same answer. Items a robot creates carry
``xmlId = b24app:<event_token>`` and are looked up by it before adding, so a dropped connection on
``crm.item.add`` and the retry that follows make one item, not two. Ids come from the installed
registry, never from constants.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from b24app.errors import B24Error
from b24app.i18n import lang_of
from b24app.logsafe import scrub

from .idempotent import add_once, xml_id
from .manifest import load
from .registry import NotInstalled, installed_ids

log = logging.getLogger("b24app.install.robots")
ANSWER_KEY = "robot_answer:"
ANSWER_DAYS = 30                      # remembered answers older than this are deleted (install.jobs)
JOB_START_KEY = "job_started:"
# Portal answers that a retry may cure; every other portal error is final for this robot call.
TRANSIENT_CODES = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "TRANSPORT_ERROR", "INTERNAL_SERVER_ERROR",
                   "EXPIRED_TOKEN"}
TEXT = {
    "ru": {"error": "ошибка",
           "refused": "портал отклонил {what}: {code} {description} (HTTP {status}); повтор не поможет — "
                      "проверьте права и данные и запустите робота снова",
           "gave_up": "портал не ответил после нескольких попыток ({error}); робот завершён без результата — "
                      "запустите его снова",
           "unknown": "неизвестный робот {code!r}"},
    "en": {"error": "error",
           "refused": "the portal refused {what}: {code} {description} (HTTP {status}); a retry will not help — "
                      "check permissions and data, then run the robot again",
           "gave_up": "the portal did not answer after repeated attempts ({error}); the robot ended without a "
                      "result — run it again",
           "unknown": "unknown robot {code!r}"},
}


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
        return _NamedErrors(self.services.client(self.member_id))

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
            if not transient(exc):      # NOT_FOUND, ACCESS_DENIED: a retry reads the same answer
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


class _NamedErrors:
    """The portal client, with the failing method written onto its B24Error so a robot's error log can say
    which call the portal refused."""

    def __init__(self, client):
        self._client = client

    def call(self, method: str, params: dict | None = None):
        try:
            return self._client.call(method, params)
        except B24Error as exc:
            if not getattr(exc, "method", ""):
                exc.method = method
            raise

    def __getattr__(self, name):
        return getattr(self._client, name)


def transient(exc: B24Error) -> bool:
    """Worth a retry: no answer, a 5xx, the portal's request or operating-time limits. A 4xx other than
    those (ACCESS_DENIED, NOT_FOUND, a validation 400) fails the same way every time."""
    return (exc.status is None or exc.status >= 500 or exc.status == 429
            or exc.code.upper() in TRANSIENT_CODES)


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
    who = worker or _int_or_none(deal.get(call.ids.deal_field("worker")))
    at = datetime.fromisoformat(started)
    travel = _stats().travel_for_start(call.services, call.member_id, who, int(deal["ID"]), at)
    _facts().job_started(call.services.store.engine, call.member_id, int(deal["ID"]), at, who, travel)
    note = f"deal {deal['ID']} ({pipeline}) → {stage}, started {started}"
    if travel is not None:
        note += f", {travel} min travel"
    comment = call.prop("comment")
    if comment:
        cid, _ = _timeline(call, int(deal["ID"]), f"{_START_TITLE}\n{comment}", [])
        note += f"; comment {cid} on the timeline"
    return {"started_at": started, "stage_id": stage}, note


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
    comment, photos = call.prop("comment") or "", call.prop("photos")
    if comment or photos:
        lines = [_FINISH_TITLE + (f" ({values['actual_minutes']} мин)" if "actual_minutes" in values else "")]
        if comment:
            lines.append(comment)
        cid, skipped = _timeline(call, int(deal["ID"]), "\n".join(lines), photos)
        note += f"; comment {cid} with {len(photos) - len(skipped)} photo(s) on the timeline"
        if skipped:
            note += f"; not attached: {'; '.join(skipped)}"
    return values, f"deal {deal['ID']} ({pipeline}) → {stage}; {note}"


# --- the deal's timeline: comment + photos of a job robot, once per robot call --------------------------
TIMELINE_KEY = "robot_timeline:"
_START_TITLE = "Работа начата"
_FINISH_TITLE = "Работа завершена"
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_TIMEOUT_S = 15


def _stats():
    from maps import stats

    return stats


def _timeline(call: RobotCall, deal_id: int, text: str, photos: list) -> tuple[int, list[str]]:
    """``crm.timeline.comment.add`` with the photos as ``FILES`` ([name, base64]); remembered per
    ``event_token``, so an inbox retry after a later step failed does not post the comment twice.
    Returns (comment id, why each photo that could not be attached was left out)."""
    kv, token = call.services.store.kv, str(call.payload.get("event_token") or "")
    done = kv.get(call.member_id, TIMELINE_KEY + token) if token else None
    if done:
        return int(done["id"]), list(done.get("skipped") or [])
    files, skipped = [], []
    from b24app.outbound import OutboundGuard

    hosts, guard = _photo_hosts(call), OutboundGuard.from_settings(call.services.settings)
    for k, ref in enumerate(photos or [], 1):
        try:
            files.append(_photo(ref, k, hosts, guard))
        except RobotError as exc:
            skipped.append(str(exc))
    if skipped:
        text += "\n" + "\n".join(f"Не прикреплено: {s}" for s in skipped)
    fields = {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": text}
    if files:
        fields["FILES"] = files
    cid = int(call.client.call("crm.timeline.comment.add", {"fields": fields}))
    if token:
        kv.set(call.member_id, TIMELINE_KEY + token, {"id": cid, "skipped": skipped})
    return cid, skipped


def _photo_hosts(call: RobotCall) -> set[tuple[str, str, int]]:
    """Origins (scheme, host, port) a photo link may point at: the portal's own (its ``publink`` /
    ``shortlink`` live there) plus ``B24APP_PHOTO_HOSTS`` (comma-separated ``host`` = its default ports,
    ``host:port`` = that port over http or https, ``https://host[:port]`` = exactly that origin). Anything
    else is refused before a request is made: a robot property is text a workflow author typed, and the
    app must not fetch arbitrary URLs (SSRF). The outbound guard checks the address on top of this."""
    from urllib.parse import urlsplit

    origins: set[tuple[str, str, int]] = set()
    portal = call.services.store.portals.get(call.member_id)
    if portal is not None:
        origins |= _origins(portal.client_endpoint)
    for entry in str(getattr(call.services.settings, "photo_hosts", "") or "").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if "://" in entry:
            origins |= _origins(entry)
            continue
        parts = urlsplit("//" + entry)
        try:
            port = parts.port
        except ValueError:
            continue
        for scheme, default in (("http", 80), ("https", 443)):
            if parts.hostname:
                origins.add((scheme, parts.hostname, port or default))
    return origins


def _origins(url: str) -> set[tuple[str, str, int]]:
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip().lower())
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return set()
    return {(parts.scheme, parts.hostname, port)} if parts.hostname and port else set()


def _photo(ref: str, k: int, hosts: set[tuple[str, str, int]], guard=None) -> list[str]:
    """One robot file value → [name, base64]. A link (the designer's ``> publink`` / ``> shortlink``, or any
    http(s) URL) is downloaded through the outbound guard (``guard``; else the environment's).
    A bare number is what the portal sends for a file value itself (the robot
    gets the file's id, bizproc/classes/general/restactivity.php → BaseType\\File::externalizeValue), and
    REST has no method that returns such a file, so it is reported instead of silently dropped."""
    import base64
    import os.path
    from urllib.parse import unquote, urlparse

    import requests

    from b24app.outbound import OutboundRefused, default_guard

    ref = str(ref).strip()
    if ref.isdigit():
        raise RobotError(f"file #{ref}: the portal passes robot files as ids REST cannot read; "
                         "pass a link ({=…:FIELD > publink})")
    url = urlparse(ref)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise RobotError(f"{ref[:80]!r} is neither a file link nor a file id")
    if not (_origins(ref) & hosts):
        shown = ", ".join(sorted(f"{s}://{h}:{p}" for s, h, p in hosts))
        raise RobotError(f"{ref[:120]}: not a link to this portal's files (allowed: {shown}; more in "
                         "B24APP_PHOTO_HOSTS)")
    try:
        with (guard or default_guard()).session() as session, \
                session.get(ref, timeout=PHOTO_TIMEOUT_S, stream=True) as r:
            if r.status_code != 200:
                raise RobotError(f"{ref[:120]}: HTTP {r.status_code}")
            body = b""
            for chunk in r.iter_content(64 * 1024):
                body += chunk
                if len(body) > PHOTO_MAX_BYTES:
                    raise RobotError(f"{ref[:120]}: larger than {PHOTO_MAX_BYTES // (1024 * 1024)} MB")
    except OutboundRefused as exc:
        raise RobotError(f"{ref[:120]}: {exc}") from None
    except requests.RequestException as exc:
        raise RobotError(f"{ref[:120]}: {type(exc).__name__}") from None
    name = os.path.basename(unquote(url.path)) or f"photo-{k}.jpg"
    return [name, base64.b64encode(body).decode("ascii")]


def create_visit(call: RobotCall):
    """The robot's inputs → visits.create (one shape for visits from every entry point)."""
    from visits.create import CreateError
    from visits.create import create_visit as create

    company_id, when = _visit_company(call), call.prop("visit_date")
    try:
        item = create(call.services, call.member_id, company_id, when, call.prop("visit_type") or "planned",
                      call.prop("purpose"), call.prop("responsible"), xml_id=_call_xml_id(call))
    except CreateError as exc:
        raise RobotError(str(exc)) from exc
    return {"visit_id": item["id"]}, f"visit {item['id']} created for company {company_id} on {when} (draft)"


def _call_xml_id(call: RobotCall) -> str | None:
    token = str(call.payload.get("event_token") or "")
    return xml_id(token) if token else None


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
    item = add_once(call.client, sp.entity_type_id, fields, _call_xml_id(call))
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
    """The gate's rule: the amount 1C reported (our ledger), never the hand-editable deal field."""
    from sync_1c.gate import paid_from_1c, paid_state

    amount, _source = paid_from_1c(call.services, call.member_id, deal, call.ids, fetch=False)
    field = call.ids.deal_field("amount_paid")
    paid, total, full = paid_state({**deal, field: amount}, field)
    return float(paid), float(total), bool(full and total > 0)


def sync_payments_now(call: RobotCall):
    from sync_1c import connection, sync

    deal = call.deal()
    number = str(deal.get(call.ids.deal_field("order_1c_number")) or "").strip()
    key = str(deal.get(call.ids.deal_field("order_1c_key")) or "").strip()
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
    from .params import stage_entity_id
    from .plan import _sem

    category = int(deal.get("CATEGORY_ID") or 0)
    ours = call.ids.pipeline_of_category(category)
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


HANDLERS: dict[str, Callable[[RobotCall], tuple[dict, str]]] = {
    "b24app_start_job": start_job, "b24app_finish_job": finish_job, "b24app_create_visit": create_visit,
    "b24app_assign_nearest_worker": assign_nearest_worker, "b24app_send_to_calculation": send_to_calculation,
    "b24app_order_work": order_work, "b24app_sync_payments_now": sync_payments_now,
    "b24app_check_paid": check_paid,
}


def _lang(services, member_id: str) -> str:
    p = services.store.portals.get(member_id)
    return lang_of(p.lang if p else None)


def _answer(lang: str, robot: dict | None, message: str, values: dict | None = None, error: bool = False) -> dict:
    """One answer's shape: the log line starts with the robot's name in the portal's language."""
    name = (robot or {}).get("name", {})
    head = f"b24app {name.get(lang) or name.get('en') or ''}".rstrip()
    text = f"{head}: {TEXT[lang]['error']}: {message}" if error else f"{head}: {message}"
    # the log lands in the portal's workflow log, readable by its users: no credential in it
    return {"values": dict(values or {}), "log": scrub(text), "at": time.time()}


def refused_text(lang: str, exc: B24Error) -> str:
    method = getattr(exc, "method", "")
    what = method or ("запрос" if lang == "ru" else "the request")
    return TEXT[lang]["refused"].format(what=what, code=exc.code or "-", description=exc.description,
                                        status=exc.status)


def _run(services, member_id: str, code: str, payload: dict, lang: str) -> dict:
    """Run the robot; returns its answer. Only transient portal failures raise (the inbox retries them)."""
    try:
        robot = load().robot(code)
        fn = HANDLERS[code]
    except KeyError:
        return _answer(lang, None, TEXT[lang]["unknown"].format(code=code), error=True)
    try:
        call = RobotCall(services, member_id, code, payload, robot)
        for key in robot["properties"]:     # every input checked before anything is touched
            call.prop(key)
        values, message = fn(call)
        # A robot writes with the app's own token: the log line (and the workflow log, LOG_MESSAGE) say
        # which robot did it for which document, since the portal records the app as the author.
        log.info("robot %s on %s for %s (workflow %s): %s", code, member_id, payload.get("document_id"),
                 payload.get("workflow_id") or "-", message)
        return _answer(lang, robot, message, values)
    except (RobotError, NotInstalled) as exc:
        log.warning("robot %s on %s: %s", code, member_id, exc)
        return _answer(lang, robot, str(exc), error=True)
    except B24Error as exc:
        if transient(exc):
            raise
        log.warning("robot %s on %s: portal refused %s: %s", code, member_id, getattr(exc, "method", "?"), exc)
        return _answer(lang, robot, refused_text(lang, exc), error=True)


def _send(services, member_id: str, payload: dict, answer: dict) -> None:
    """bizproc.event.send with the remembered answer. A refusal (a dead token, 403) cannot be cured by
    resending, so it is logged; a transient failure raises for the inbox's retry."""
    token = str(payload.get("event_token") or "")
    if not token or payload.get("use_subscription", "Y") == "N":
        return
    params = {"EVENT_TOKEN": token, "LOG_MESSAGE": answer["log"]}
    if answer["values"]:
        params["RETURN_VALUES"] = answer["values"]
    try:
        services.client(member_id).call("bizproc.event.send", params)
    except B24Error as exc:
        if transient(exc):
            raise
        log.warning("robot %s on %s: bizproc.event.send refused, answer dropped: %s",
                    payload.get("code"), member_id, exc)


def handle_robot(services, member_id: str, payload: dict) -> dict:
    """The inbox handler for every robot: run it, answer via bizproc.event.send, return RETURN_VALUES.

    Transient portal failures propagate so the inbox retries; a bad call or a portal refusal is answered
    with its error."""
    token = str(payload.get("event_token") or "")
    code = str(payload.get("code") or "")
    kv = services.store.kv
    answer = kv.get(member_id, ANSWER_KEY + token) if token else None
    if answer is None:
        answer = _run(services, member_id, code, payload, _lang(services, member_id))
        if token:
            kv.set(member_id, ANSWER_KEY + token, answer)
    _send(services, member_id, payload, answer)
    return answer["values"]


def robot_gave_up(services, member_id: str, payload: dict, error: str) -> None:
    """``inbox.GIVE_UP_HANDLERS["robot"]``: the inbox stopped retrying — answer the workflow with an error
    (or with the answer already computed whose sending kept failing) so the automation moves on."""
    token = str(payload.get("event_token") or "")
    if not token:
        return
    kv = services.store.kv
    answer = kv.get(member_id, ANSWER_KEY + token)
    if answer is None:
        lang = _lang(services, member_id)
        code = str(payload.get("code") or "")
        try:
            robot = load().robot(code)
        except KeyError:
            robot = None
        answer = _answer(lang, robot, TEXT[lang]["gave_up"].format(error=error), error=True)
        kv.set(member_id, ANSWER_KEY + token, answer)
    log.warning("robot %s on %s given up (%s): answering with an error", payload.get("code"), member_id, error)
    _send(services, member_id, payload, answer)


def register(handlers: dict | None = None, give_up: dict | None = None) -> dict:
    """Put every manifest robot into the inbox registry (``robot:<code>``) and ``robot_gave_up`` into
    ``inbox.GIVE_UP_HANDLERS``; call once at start-up."""
    from b24app import inbox

    if handlers is None:
        handlers = inbox.EVENT_HANDLERS
    for robot in load().robots:
        handlers[f"robot:{robot['code']}"] = handle_robot
    (inbox.GIVE_UP_HANDLERS if give_up is None else give_up)["robot"] = robot_gave_up
    return handlers
