"""Load and validate app.json — the single declaration of what b24app puts into a portal.

JSON Schema (install/schema.json) checks shapes; the cross-checks below catch what a schema cannot
(duplicate keys, a pipeline without exactly one success stage, a relation to an unknown smart process,
a UF name over the portal's 50-character limit). Every error names its JSON path, so a broken manifest
is fixed in one look rather than found by a failed install on a customer's portal.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft202012Validator

from b24app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
ENV_MANIFEST = "B24APP_MANIFEST"     # an integrator's own app.json, without editing the installed package


def default_manifest_path() -> Path:
    """The app.json shipped with b24app: the wheel's copy inside ``install`` (setup.py's build hook puts it
    there), else the repository root of a checkout / editable install."""
    packaged = resources.files("install").joinpath("app.json")
    if packaged.is_file():
        return Path(str(packaged))
    return ROOT / "app.json"


def manifest_path() -> Path:
    """Where load() reads from: $B24APP_MANIFEST when set, else the shipped app.json."""
    override = Settings.from_env().manifest
    return Path(override) if override else default_manifest_path()


MANIFEST_PATH = default_manifest_path()

# Built-in CRM owners a relation, a robot's document type or a placement may name (reference §5.1).
CRM_ENTITY_TYPE_IDS = {"lead": 1, "deal": 2, "contact": 3, "company": 4}
UF_NAME_MAX = 50            # userfieldconfig.add: fieldName ≤ 50 chars (reference §5.5)
DEAL_UF_PREFIX = "UF_CRM_B24APP_"


class ManifestError(ValueError):
    """A manifest that must not be installed; ``errors`` lists every problem as ``$.path: message``."""

    def __init__(self, errors: list[str], source: str = "app.json"):
        self.errors = errors
        self.source = source
        super().__init__(f"{source} is invalid ({len(errors)} problem(s)):\n  " + "\n  ".join(errors))


def _path(parts) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


@dataclass(frozen=True)
class Manifest:
    """A validated manifest. ``data`` is the JSON as written; helpers look things up by our keys."""

    data: dict

    @property
    def version(self) -> int:
        return int(self.data["version"])

    @property
    def scopes(self) -> list[str]:
        return list(self.data["scopes"])

    @property
    def smart_processes(self) -> list[dict]:
        return self.data["smart_processes"]

    @property
    def pipelines(self) -> list[dict]:
        return self.data["pipelines"]

    @property
    def fields(self) -> dict[str, list[dict]]:
        return self.data["fields"]

    @property
    def placements(self) -> list[dict]:
        return self.data["placements"]

    @property
    def events(self) -> list[dict]:
        return self.data["events"]

    @property
    def robots(self) -> list[dict]:
        return self.data["robots"]

    def smart_process(self, key: str) -> dict:
        return _by(self.smart_processes, "key", key, "smart process")

    def pipeline(self, key: str) -> dict:
        return _by(self.pipelines, "key", key, "pipeline")

    def robot(self, code: str) -> dict:
        return _by(self.robots, "code", code, "robot")

    def placement(self, key: str) -> dict:
        return _by(self.placements, "key", key, "placement")


def _by(items: list[dict], attr: str, value: str, what: str) -> dict:
    for item in items:
        if item[attr] == value:
            return item
    raise KeyError(f"no {what} {value!r} in the manifest")


def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_schema())


def schema_errors(data: Any) -> list[str]:
    """Shape errors from JSON Schema, sorted by path, each as ``$.path: message``."""
    validator = _validator()
    out = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        out.append(f"{_path(err.absolute_path)}: {err.message}")
    return out


def _dupes(items: list[dict], attr: str, where: list) -> Iterator[str]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        v = item.get(attr)
        if v in seen:
            yield f"{_path(where + [i, attr])}: duplicate {attr} {v!r} (first at [{seen[v]}])"
        else:
            seen[v] = i


def _check_stages(stages: list[dict], where: list, required: bool) -> Iterator[str]:
    yield from _dupes(stages, "key", where)
    yield from _dupes(stages, "code", where)
    if not stages and not required:
        return
    sem = [s["semantics"] for s in stages]
    if sem.count("success") != 1:
        yield f"{_path(where)}: needs exactly one stage with semantics 'success', found {sem.count('success')}"
    if "failure" not in sem:
        yield f"{_path(where)}: needs at least one stage with semantics 'failure'"
    if stages and stages[0]["semantics"] != "process":
        yield f"{_path(where + [0, 'semantics'])}: the first stage is where new items land; it must be 'process'"
    closed = False
    for i, s in enumerate(stages):
        if s["semantics"] != "process":
            closed = True
        elif closed:
            yield f"{_path(where + [i])}: process stage {s['key']!r} comes after a success/failure stage"


def _check_fields(fields: list[dict], where: list, name_of) -> Iterator[str]:
    yield from _dupes(fields, "key", where)
    for i, f in enumerate(fields):
        name = name_of(f["key"])
        if len(name) > UF_NAME_MAX:
            yield (f"{_path(where + [i, 'key'])}: field name {name} is {len(name)} chars; "
                   f"the portal allows {UF_NAME_MAX}")


def semantic_errors(data: dict) -> list[str]:
    """Cross-checks over a schema-valid manifest."""
    errs: list[str] = []
    sps = data["smart_processes"]
    sp_keys = {sp["key"] for sp in sps}
    owners = set(CRM_ENTITY_TYPE_IDS) | sp_keys
    errs += _dupes(sps, "key", ["smart_processes"])
    errs += _dupes(sps, "code", ["smart_processes"])
    for i, sp in enumerate(sps):
        at = ["smart_processes", i]
        stages_on = sp.get("features", {}).get("isStagesEnabled", True)
        if sp["stages"] and not stages_on:
            errs.append(f"{_path(at + ['stages'])}: stages declared but features.isStagesEnabled is false")
        errs += _check_stages(sp["stages"], at + ["stages"], required=stages_on)
        # The smart process's UF names carry its crm.type id, unknown until install: assume 4 digits.
        errs += _check_fields(sp["fields"], at + ["fields"], lambda k: f"UF_CRM_9999_{k.upper()}")
        for side, targets in sp.get("relations", {}).items():
            for j, t in enumerate(targets):
                if t not in owners:
                    errs.append(f"{_path(at + ['relations', side, j])}: unknown entity {t!r}; "
                                f"use one of {sorted(owners)}")
                if t == sp["key"]:
                    errs.append(f"{_path(at + ['relations', side, j])}: a smart process cannot be its own relation")
    errs += _dupes(data["pipelines"], "key", ["pipelines"])
    for i, p in enumerate(data["pipelines"]):
        errs += _check_stages(p["stages"], ["pipelines", i, "stages"], required=True)
    for entity, fields in data["fields"].items():
        errs += _check_fields(fields, ["fields", entity], lambda k: f"{DEAL_UF_PREFIX}{k.upper()}")
    errs += _dupes(data["placements"], "key", ["placements"])
    seen = {}
    for i, pl in enumerate(data["placements"]):
        pair = (pl["placement"], pl["handler"])
        if pair in seen:
            errs.append(f"{_path(['placements', i])}: placement {pair[0]} with handler {pair[1]} is already "
                        f"declared at [{seen[pair]}]; the portal rejects it as 'Handler already binded'")
        seen[pair] = i
        if "{" in pl["placement"]:
            ref = pl["placement"].split("{", 1)[1].split("}", 1)[0]
            if ref not in sp_keys:
                errs.append(f"{_path(['placements', i, 'placement'])}: {{{ref}}} is not a smart process key")
    ev = [f"{e['event']} {e.get('handler') or 'offline'}" for e in data["events"]]
    for i, e in enumerate(ev):
        if e in ev[:i]:
            errs.append(f"{_path(['events', i])}: duplicate event binding {e}")
    for i, e in enumerate(data["events"]):
        if e.get("mode") == "offline" and e["event"] in NO_OFFLINE_EVENTS:
            errs.append(f"{_path(['events', i, 'mode'])}: {e['event']} cannot be bound offline "
                        f"(the portal answers 'Offline event cannot be registered for this event.')")
    errs += _dupes(data["robots"], "code", ["robots"])
    for i, r in enumerate(data["robots"]):
        dt = r.get("document_type")
        if dt and dt not in owners:
            errs.append(f"{_path(['robots', i, 'document_type'])}: unknown document type {dt!r}; "
                        f"use one of {sorted(owners)}")
        for side in ("properties", "return_properties"):
            for k, prop in r[side].items():
                if prop["type"] == "select" and "default" in prop and str(prop["default"]) not in prop["options"]:
                    errs.append(f"{_path(['robots', i, side, k, 'default'])}: {prop['default']!r} is not one "
                                f"of the options {sorted(prop['options'])}")
    return errs


# Lifecycle events the portal refuses to queue offline (src rest/lib/api/event.php, reference §2.4).
NO_OFFLINE_EVENTS = {"ONAPPINSTALL", "ONAPPUPDATE", "ONAPPUNINSTALL", "ONAPPPAYMENT", "ONAPPTEST",
                     "ONAPPMETHODCONFIRM", "ONOFFLINEEVENT"}


def validate(data: Any, source: str = "app.json") -> Manifest:
    """Schema first (a broken shape makes the cross-checks meaningless), then the cross-checks."""
    errors = schema_errors(data)
    if not errors:
        errors = semantic_errors(data)
    if errors:
        raise ManifestError(errors, source)
    return Manifest(data)


def load(path: str | Path | None = None) -> Manifest:
    """Read and validate a manifest file (default: manifest_path())."""
    p = Path(path) if path else manifest_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ManifestError([f"$: no manifest file at {p}"], p.name) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError([f"$: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"], p.name) from exc
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    if digest in _VALID_TEXTS:                    # every install reads the same file: check it once per process
        return Manifest(data)
    manifest = validate(data, p.name)
    _VALID_TEXTS.add(digest)
    return manifest


# Digests of manifest texts that passed validate(): a changed file has another digest and is checked again.
_VALID_TEXTS: set[bytes] = set()
