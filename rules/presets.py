"""Shipped rule sets (rules/presets/<name>.json): a document with ``{{variable}}`` placeholders — stage
ids, field codes, people — and their defaults. Installing one substitutes the administrator's values
(a string that is exactly one placeholder takes the value's own type: a number stays a number) and
validates the result like any imported file."""
from __future__ import annotations

import json
import re
from importlib import resources

from b24app.errors import said

from . import model

_VAR = re.compile(r"\{\{([a-z0-9_]+)\}\}")


class PresetError(model.RulesError):
    """An unknown preset or a variable it does not declare."""


def _files() -> dict[str, dict]:
    out = {}
    for f in resources.files("rules").joinpath("presets").iterdir():
        if f.name.endswith(".json"):
            out[f.name[:-5]] = json.loads(f.read_text(encoding="utf-8"))
    return out


def catalogue() -> list[dict]:
    return [{"name": k, "title": v.get("title"), "variables": v.get("variables") or {}}
            for k, v in sorted(_files().items())]


def _subst(node, values: dict):
    if isinstance(node, dict):
        return {k: _subst(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_subst(v, values) for v in node]
    if isinstance(node, str):
        whole = _VAR.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return _VAR.sub(lambda m: str(values[m.group(1)]), node)
    return node


def build(name: str, variables: dict | None = None) -> model.Document:
    presets = _files()
    if name not in presets:
        raise PresetError(said(f"no preset {name!r} (one of {', '.join(sorted(presets))})",
                               f"нет набора правил {name!r} (есть: {', '.join(sorted(presets))})"), path="preset")
    p = presets[name]
    declared = p.get("variables") or {}
    unknown = sorted(set(variables or {}) - set(declared))
    if unknown:
        raise PresetError(said(f"the preset has no variable {unknown[0]!r}",
                               f"в наборе нет переменной {unknown[0]!r}"), path=f"variables.{unknown[0]}")
    values = {k: v.get("default") for k, v in declared.items()}
    for k, v in (variables or {}).items():
        want = type(declared[k].get("default"))
        if want is int and not (isinstance(v, int) and not isinstance(v, bool)):
            if not str(v).isdigit():
                raise PresetError(said(f"{v!r} is not a number", f"{v!r} — не число"), path=f"variables.{k}")
            v = int(v)
        values[k] = v if want is int else str(v)
    return model.validate(_subst(p["document"], values))


# --- a preset's structure: pipelines, stages, fields, lead statuses, made on the portal in one step ----------
STRUCTURE_KV = "rules.structure"
UF_TYPES = {"double", "string", "date", "datetime", "file", "employee", "boolean"}


def structure_of(name: str) -> dict | None:
    p = _files().get(name)
    return (p or {}).get("structure")


def _run(client, calls: list) -> None:
    """Structure writes in batches (⌈n/50⌉ HTTP calls, not n); the first refusal stops the install."""
    if not calls:
        return
    failed = [r.error for r in client.batch_many(calls) if not r.ok]
    if failed:
        raise failed[0]


def _pipeline(client, name: str, stages: list) -> tuple[int, dict[str, str]]:
    """The pipeline called ``name`` (made if missing) with exactly these stages, in this order: a new pipeline's
    system stages (NEW, WON, LOSE) are renamed into the first process stage, success and failure; the rest of
    its default stages are removed; ours are added. Returns (category id, {variable: STATUS_ID})."""
    cats = (client.call("crm.category.list", {"entityTypeId": 2}) or {}).get("categories") or []
    have = next((c for c in cats if c.get("name") == name), None)
    cid = int(have["id"]) if have else int(
        client.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": name, "sort": 500}})["category"]["id"])
    entity = f"DEAL_STAGE_{cid}"
    prefix = f"C{cid}:"
    rows = {r["STATUS_ID"]: r for r in client.call("crm.status.list", {"filter": {"ENTITY_ID": entity}}) or []}
    out, keep, calls = {}, set(), []
    process = [s for s in stages if not s[3]]
    for i, (var, code, title, sem) in enumerate(stages):
        sort = (i + 1) * 10
        if sem == "S":
            sid = prefix + "WON"
        elif sem == "F":
            sid = prefix + "LOSE"
        elif process and code == process[0][1] and prefix + code not in rows:
            sid = prefix + "NEW"          # the pipeline's first (system) stage carries the first process stage
        else:
            sid = prefix + code
        if sid in rows:
            calls.append(("crm.status.update", {"id": int(rows[sid]["ID"]), "fields": {"NAME": title, "SORT": sort}}))
        else:
            calls.append(("crm.status.add", {"fields": {"ENTITY_ID": entity, "STATUS_ID": sid, "NAME": title,
                                                        "SORT": sort, **({"SEMANTICS": sem} if sem else {})}}))
        keep.add(sid)
        if var:
            out[var] = sid
    calls += [("crm.status.delete", {"id": int(r["ID"])}) for sid, r in rows.items()
              if sid not in keep and r.get("SYSTEM") != "Y"]
    _run(client, calls)
    return cid, out


def install_structure(services, member_id: str, name: str) -> dict:
    """Make the preset's pipelines, stages, lead statuses and deal fields on the portal (the app's own token;
    what exists already is kept) and return the variables they give (category ids, stage ids)."""
    st = structure_of(name)
    if st is None:
        raise PresetError(said(f"preset {name!r} has no structure to install",
                               f"у набора {name!r} нет структуры для установки"), path="preset")
    client = services.client(member_id)
    values: dict = {}
    leads = {r["STATUS_ID"]: r for r in client.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}}) or []}
    calls = []
    for i, (sid, title, sem) in enumerate(st.get("lead_statuses") or []):
        if sid in leads:
            calls.append(("crm.status.update", {"id": int(leads[sid]["ID"]), "fields": {"NAME": title}}))
        else:
            calls.append(("crm.status.add", {"fields": {"ENTITY_ID": "STATUS", "STATUS_ID": sid, "NAME": title,
                                                        "SORT": (i + 1) * 10 + 5,
                                                        **({"SEMANTICS": sem} if sem else {})}}))
    _run(client, calls)
    for var, spec in (st.get("pipelines") or {}).items():
        cid, stages = _pipeline(client, spec["name"], spec["stages"])
        values[var] = cid
        values.update(stages)
    declared = _files()[name].get("variables") or {}
    fields = {r["FIELD_NAME"] for r in client.call("crm.deal.userfield.list", {}) or []}
    calls = []
    for var, uf_type, label, multiple in st.get("deal_fields") or []:
        code = declared[var]["default"]
        if code not in fields and uf_type in UF_TYPES:
            calls.append(("crm.deal.userfield.add", {"fields": {
                "FIELD_NAME": code, "USER_TYPE_ID": uf_type, "LABEL": label, "MULTIPLE": "Y" if multiple else "N"}}))
        values[var] = code
    _run(client, calls)
    services.store.kv.set(member_id, STRUCTURE_KV, {"preset": name, "variables": values})
    return values


def install(services, member_id: str, name: str, variables: dict | None = None, *,
            with_structure: bool = False) -> model.Document:
    """The preset's rules for this portal (after its structure, if asked): validated, then stored."""
    values = dict(variables or {})
    if with_structure:
        values = {**install_structure(services, member_id, name), **values}
    doc = build(name, values)
    model.save(services.store.kv, member_id, doc)
    return doc


def defaults(name: str) -> dict:
    return {k: v.get("default") for k, v in ((_files().get(name) or {}).get("variables") or {}).items()}
