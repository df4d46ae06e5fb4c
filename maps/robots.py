"""The field-job robots of the orders map: start / finish a job (stage, facts for travel and on-site
statistics, a timeline comment with photos) and assign the nearest free worker. Declared by
``maps.plugin``; the runtime (b24app/robot_runtime.py) parses the call and answers it."""
from __future__ import annotations

from datetime import datetime, timezone

from b24app.robot_runtime import RobotCall, RobotError, int_or_none
from install.registry import installed_ids

from . import mapstate, stats
from .assign import AssignError, auto_assign
from .job_timeline import FINISH_TITLE, START_TITLE, post_once

JOB_START_KEY = "job_started:"


def _ids(call: RobotCall):
    """What the installer recorded for this portal (ids are discovered, never hard-coded)."""
    return installed_ids(call.services.store, call.member_id)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _move_deal(call: RobotCall, deal: dict, stage_key: str, extra: dict | None = None) -> tuple[str, str]:
    pipeline = _ids(call).pipeline_of_category(int(deal.get("CATEGORY_ID") or 0))
    if pipeline is None:
        raise RobotError(f"deal {deal['ID']} is not in a b24app pipeline (Measurements, Production, Installation)")
    if stage_key not in pipeline.stages:
        raise RobotError(f"pipeline {pipeline.key} has no {stage_key!r} stage")
    stage = pipeline.stage(stage_key)
    call.client.call("crm.deal.update", {"id": int(deal["ID"]), "fields": {"STAGE_ID": stage, **(extra or {})}})
    return stage, pipeline.key



def start_job(call: RobotCall):
    deal, worker = call.deal(), call.prop("worker")
    extra = {_ids(call).deal_field("worker"): worker} if worker else {}
    stage, pipeline = _move_deal(call, deal, "job_started", extra)
    started = _now().isoformat()
    call.services.store.kv.set(call.member_id, JOB_START_KEY + str(deal["ID"]), started)
    who = worker or int_or_none(deal.get(_ids(call).deal_field("worker")))
    at = datetime.fromisoformat(started)
    travel = stats.travel_for_start(call.services, call.member_id, who, int(deal["ID"]), at)
    mapstate.job_started(call.services.store.engine, call.member_id, int(deal["ID"]), at, who, travel)
    note = f"deal {deal['ID']} ({pipeline}) → {stage}, started {started}"
    if travel is not None:
        note += f", {travel} min travel"
    comment = call.prop("comment")
    if comment:
        cid, _ = post_once(call, int(deal["ID"]), f"{START_TITLE}\n{comment}", [])
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
    mapstate.job_finished(call.services.store.engine, call.member_id, int(deal["ID"]), finished,
                          values.get("actual_minutes"))
    comment, photos = call.prop("comment") or "", call.prop("photos")
    if comment or photos:
        lines = [FINISH_TITLE + (f" ({values['actual_minutes']} мин)" if "actual_minutes" in values else "")]
        if comment:
            lines.append(comment)
        cid, skipped = post_once(call, int(deal["ID"]), "\n".join(lines), photos)
        note += f"; comment {cid} with {len(photos) - len(skipped)} photo(s) on the timeline"
        if skipped:
            note += f"; not attached: {'; '.join(skipped)}"
    return values, f"deal {deal['ID']} ({pipeline}) → {stage}; {note}"


def assign_nearest_worker(call: RobotCall):
    """Ranks the candidates by the extra driving the job costs each (maps.assign) and assigns the best one
    that is free at the job time: deal worker field, calendar event and task, in one batch."""
    deal, candidates = call.deal(), call.prop("candidates")
    coords = str(deal.get(_ids(call).deal_field("coordinates")) or "").strip()
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
