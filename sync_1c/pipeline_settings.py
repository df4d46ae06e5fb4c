"""Per-pipeline settings of the paid gate and of the auto-forward, as an administrator sends them to the
settings API, checked against *our installed pipelines and stages* (installed_ids) and stored as portal
ids in kv — the form the gate and the sync read (`connection.GATE_KEY`, `connection.AUTO_FORWARD_KEY`).

Why validate here and not trust the page: a typo in a stage id would make the auto-forward silently never
fire, or move deals somewhere nobody expects; a move backwards would fight the managers. So: pipelines by
our key ("installation") or CATEGORY_ID, stages by our key ("job_done") or STATUS_ID, the target stage
strictly after the source stage (forward-only, 1c-odata.md §3.6 step 6), and every problem named.
"""
from __future__ import annotations

from b24app.errors import SettingsError, said

from . import connection


def _pipeline(ids, field: str, ref):
    pipelines = ids.data.get("pipelines", {})
    if str(ref) in pipelines:
        return ids.pipeline(str(ref))
    if str(ref).lstrip("-").isdigit():
        p = ids.pipeline_of_category(int(ref))
        if p is not None:
            return p
    known = ", ".join(f"{k} (CATEGORY_ID {v['categoryId']})" for k, v in pipelines.items())
    raise SettingsError(said(f"unknown pipeline {ref!r}; the app's pipelines: {known}",
                             f"неизвестная воронка {ref!r}; воронки приложения: {known}"), path=field)


def _stage(pipeline, field: str, ref) -> tuple[int, str]:
    """(position, STATUS_ID) of a stage given by our key or by its STATUS_ID."""
    order = list(pipeline.stages)
    key = ref if ref in pipeline.stages else pipeline.stage_key(str(ref))
    if key is None:
        stages = ", ".join(order)
        raise SettingsError(said(f"pipeline {pipeline.key} has no stage {ref!r}; its stages: {stages}",
                                 f"в воронке {pipeline.key} нет стадии {ref!r}; её стадии: {stages}"), path=field)
    return order.index(key), pipeline.stages[key]


def parse_auto_forward(value, ids) -> dict[str, dict[str, str]]:
    """{pipeline: {from stage: to stage}} → {CATEGORY_ID: {from STATUS_ID: to STATUS_ID}}. {} switches it off."""
    field = "auto_forward"
    if not isinstance(value, dict):
        raise SettingsError(said("an object {pipeline: {from stage: to stage}} is expected",
                                 "нужен объект {воронка: {с какой стадии: на какую}}"), path=field)
    out: dict[str, dict[str, str]] = {}
    for pref, moves in value.items():
        p = _pipeline(ids, field, pref)
        if not isinstance(moves, dict):
            raise SettingsError(said(f"pipeline {pref!r}: an object {{from stage: to stage}} is expected",
                                     f"воронка {pref!r}: нужен объект {{с какой стадии: на какую}}"), path=field)
        cat = out.setdefault(str(p.category_id), {})
        for src, dst in moves.items():
            i, src_id = _stage(p, field, src)
            j, dst_id = _stage(p, field, dst)
            if j <= i:
                raise SettingsError(said(f"pipeline {p.key}: {dst} is not after {src} — the app only moves "
                                         "a deal forward when it is paid",
                                         f"воронка {p.key}: {dst} не дальше {src} — приложение при оплате "
                                         "переводит сделку только вперёд"), path=field)
            cat[src_id] = dst_id
    return out


SCOPES = ("linked", "all")


def parse_gate(value, ids) -> dict:
    """{"enabled": bool, "pipelines": [pipeline, …] | null, "all_deals": bool, "scope": {pipeline: "linked" |
    "all"}} → the gate's kv form ({"enabled", "categories": [CATEGORY_ID] | None, "all_deals", "scope":
    {CATEGORY_ID: …}}). `pipelines` null = every pipeline; scope per pipeline: "linked" = deals linked to a
    1C order (default), "all" = every deal of the pipeline (one without an order number cannot be closed)."""
    field = "gate"
    if not isinstance(value, dict):
        raise SettingsError(said('an object {"enabled": true, "pipelines": [...], "scope": {...}} is expected',
                                 'нужен объект {"enabled": true, "pipelines": [...], "scope": {...}}'), path=field)
    unknown = set(value) - {"enabled", "pipelines", "categories", "all_deals", "scope"}
    if unknown:
        raise SettingsError(said(f"unknown key(s) {', '.join(sorted(unknown))}",
                                 f"неизвестные ключи: {', '.join(sorted(unknown))}"), path=field)
    out = {"enabled": True, "categories": None, "all_deals": False}
    for flag in ("enabled", "all_deals"):
        if flag in value:
            if not isinstance(value[flag], bool):
                raise SettingsError(said(f"{flag} must be true or false", f"{flag} — true или false"), path=field)
            out[flag] = value[flag]
    pipelines = value.get("pipelines", value.get("categories"))
    if pipelines is not None:
        if not isinstance(pipelines, list):
            raise SettingsError(said("pipelines must be a list of pipelines (or null for all)",
                                     "pipelines — список воронок (или null — все)"), path=field)
        out["categories"] = sorted({_pipeline(ids, field, p).category_id for p in pipelines})
    scope = value.get("scope") or {}
    if not isinstance(scope, dict):
        raise SettingsError(said('scope must be an object {pipeline: "linked" | "all"}',
                                 'scope — объект {воронка: "linked" | "all"}'), path=field)
    out["scope"] = {}
    for pref, how in scope.items():
        if how not in SCOPES:
            raise SettingsError(said(f"scope of pipeline {pref!r} must be \"linked\" (deals linked to a 1C order) "
                                     f"or \"all\" (all deals of this pipeline), got {how!r}",
                                     f"scope воронки {pref!r}: \"linked\" (сделки, связанные с заказом 1С) "
                                     f"или \"all\" (все сделки воронки), а не {how!r}"), path=field)
        out["scope"][str(_pipeline(ids, field, pref).category_id)] = how
    return out


def save(kv, member_id: str, ids, body: dict) -> dict:
    """Validate both (if present) before storing either: a bad value writes nothing."""
    values = {}
    if "auto_forward" in body:
        values[connection.AUTO_FORWARD_KEY] = parse_auto_forward(body["auto_forward"], ids)
    if "gate" in body:
        values[connection.GATE_KEY] = parse_gate(body["gate"], ids)
    for key, v in values.items():
        kv.set(member_id, key, v)
    return current(kv, member_id, ids)


def current(kv, member_id: str, ids) -> dict:
    """What is stored, in our keys where the ids are ours (for the settings page)."""
    def stage_key(p, status_id):
        return (p.stage_key(status_id) if p else None) or status_id

    forward = {}
    for cat, moves in (kv.get(member_id, connection.AUTO_FORWARD_KEY) or {}).items():
        p = ids.pipeline_of_category(int(cat))
        forward[p.key if p else str(cat)] = {stage_key(p, a): stage_key(p, b) for a, b in moves.items()}
    gate = dict(kv.get(member_id, connection.GATE_KEY) or {"enabled": True, "categories": None, "all_deals": False})
    cats = gate.pop("categories", None)
    gate["pipelines"] = None if cats is None else [
        (p.key if (p := ids.pipeline_of_category(int(c))) else int(c)) for c in cats]
    gate["scope"] = {(p.key if (p := ids.pipeline_of_category(int(c))) else str(c)): how
                     for c, how in (gate.get("scope") or {}).items()}
    return {"auto_forward": forward, "gate": gate}
