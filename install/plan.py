"""Manifest + portal state → plan: for every declared object, create / update / leave (and remove what an
earlier manifest installed and this one dropped), each step carrying the exact REST calls it needs.

Pure: no I/O, so it is tested with hand-built states and used unchanged by the dry run, the install
handler and the CLI. Matching order for each object is: the id recorded at the last install → our own
code / deterministic name → the title a person would type (ru or en) — so a hand-made «Посещение» is
adopted instead of duplicated, and an admin's renaming of a stage we made is not undone.
Smart-process titles and user-field labels are updated only when the *manifest* changed them: the
installer records a fingerprint of what it declared (``declared``), and an upgrade whose manifest text
differs from that fingerprint — and from what the portal shows — sends an update; an admin's own
renaming, with the manifest unchanged, is left alone.
Steps whose parent does not exist yet are *blocked*: apply runs the plan in rounds, re-reading the
portal between them, until nothing is left to create.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import params as P
from .manifest import CRM_ENTITY_TYPE_IDS, Manifest
from .state import PortalState

# Default process stages a new pipeline comes with (sandbox crmdefaults / src DefaultStages.php);
# in a pipeline we just created they are replaced by ours, anywhere else they are left alone.
DEFAULT_PROCESS_STAGES = {"PREPARATION", "CLIENT", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE"}
CHANGING = ("create", "update", "remove")


@dataclass(frozen=True)
class Target:
    """Where handlers live and who the portal is: what the plan needs beyond manifest and state."""

    public_url: str
    lang: str = "ru"
    auth_user_id: int | None = None


@dataclass
class Step:
    action: str                      # create | update | leave | remove
    kind: str                        # smart_process | pipeline | stage | field | placement | event | robot
    key: str                         # our name: "visit", "visit.stage.draft", "deal.field.worker", ...
    calls: list[tuple[str, dict]] = field(default_factory=list)
    reason: str = ""
    blocked_by: str | None = None    # the parent that must exist before this step can be sent

    def line(self) -> str:
        methods = ", ".join(m for m, _ in self.calls)
        tail = f" (after {self.blocked_by})" if self.blocked_by else ""
        return f"{self.action:<6} {self.kind:<13} {self.key:<34} {methods}{tail}  {self.reason}".rstrip()


@dataclass
class Plan:
    steps: list[Step]
    ids: dict                        # what exists now, in the shape apply records as "installed"

    def runnable(self) -> list[Step]:
        return [s for s in self.steps if s.action in CHANGING and not s.blocked_by and s.calls]

    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "leave": 0, "remove": 0}
        for s in self.steps:
            out[s.action] += 1
        return out

    @property
    def complete(self) -> bool:
        return not any(s.action in CHANGING for s in self.steps)

    def render(self) -> str:
        c = self.counts()
        head = (f"plan: {c['create']} create, {c['update']} update, {c['remove']} remove, "
                f"{c['leave']} leave")
        return "\n".join([head] + [s.line() for s in self.steps])


OFFLINE = "offline"      # the "handler" of an offline binding in our records


def event_key(row: dict) -> tuple[str, str]:
    """An event.get row → (EVENT, handler | OFFLINE)."""
    event = str(row.get("event", "")).upper()
    return (event, OFFLINE) if str(row.get("offline", 0)) in ("1", "True", "true") else (event, row.get("handler"))


def unbind_params(event: str, handler: str) -> dict:
    return {"event": event, "event_type": "offline"} if handler == OFFLINE else {"event": event, "handler": handler}


def _fold(s) -> str:
    return " ".join(str(s or "").split()).casefold()


def _names(lang_map: dict) -> set[str]:
    return {_fold(v) for v in lang_map.values()}


def _sem(row: dict) -> str:
    s = str(row.get("SEMANTICS") or (row.get("EXTRA") or {}).get("SEMANTICS") or "").upper()
    return {"S": "success", "SUCCESS": "success", "F": "failure", "FAILURE": "failure"}.get(s, "process")


class _Planner:
    def __init__(self, manifest: Manifest, state: PortalState, recorded: dict | None, target: Target):
        self.m, self.st, self.t = manifest, state, target
        self.rec = recorded or {}
        self.created = dict(self.rec.get("created", {}))
        self.steps: list[Step] = []
        self.ids: dict = {"version": manifest.version, "smart_processes": {}, "pipelines": {},
                          "deal_fields": {}, "company_fields": {}, "contact_fields": {},
                          "placements": [], "events": [], "robots": {}, "declared": {}}
        self.owners: dict[str, int] = dict(CRM_ENTITY_TYPE_IDS)

    def _manifest_changed(self, key: str, declared, portal_matches: bool) -> bool:
        """True when the manifest's text for ``key`` changed since the last install and the portal still
        shows something else. Until the update lands the old fingerprint stays recorded, so a failed
        round is retried."""
        fp = P.fingerprint(declared)
        old = self.rec.get("declared", {}).get(key)
        if old is not None and old != fp and not portal_matches:
            self.ids["declared"][key] = old
            return True
        self.ids["declared"][key] = fp
        return False

    def add(self, *a, **kw) -> Step:
        s = Step(*a, **kw)
        self.steps.append(s)
        return s

    # --- smart processes ----------------------------------------------------------------------------
    def _match_type(self, sp: dict) -> tuple[dict | None, str]:
        rec_id = (self.rec.get("smart_processes", {}).get(sp["key"]) or {}).get("typeId")
        for t in self.st.types:
            if rec_id is not None and int(t["id"]) == int(rec_id):
                return t, "recorded"
        for t in self.st.types:
            if t.get("code") and t["code"] == sp["code"]:
                return t, f"code {sp['code']}"
        for t in self.st.types:
            if _fold(t.get("title")) in _names(sp["title"]):
                return t, f"adopted by title {t.get('title')!r}"
        return None, ""

    def smart_processes(self) -> None:
        for sp in self.m.smart_processes:
            key = sp["key"]
            row, how = self._match_type(sp)
            if row is None:
                missing = [o for side in sp.get("relations", {}).values() for o in side if o not in self.owners]
                self.add("create", "smart_process", key,
                         [] if missing else [("crm.type.add", P.type_add(sp, self.t.lang, self.owners))],
                         "missing", blocked_by=f"smart_process:{missing[0]}" if missing else None)
                self._sp_children_blocked(sp)
                continue
            etid = int(row["entityTypeId"])
            self.owners[key] = etid
            off = {f: "Y" for f, on in sp.get("features", {}).items() if on and not P.is_yes(row.get(f, "N"))}
            title = P.text(sp["title"], self.t.lang)
            why = [f"enable {', '.join(sorted(off))}"] if off else []
            if self._manifest_changed(f"smart_process.{key}", sp["title"], _fold(row.get("title")) == _fold(title)):
                off["title"] = title
                why.append(f"title {row.get('title')!r} → {title!r}")
            if off:
                self.add("update", "smart_process", key, [("crm.type.update", {"id": int(row["id"]), "fields": off})],
                         f"{how}; {'; '.join(why)}")
            else:
                self.add("leave", "smart_process", key, reason=how)
            ids = {"typeId": int(row["id"]), "entityTypeId": etid, "categoryId": None, "stages": {},
                   "fields": {}, "fieldNames": {}}
            self.ids["smart_processes"][key] = ids
            cats = self.st.categories.get(etid, [])
            cat = next((c for c in cats if P.is_yes(c.get("isDefault"))), cats[0] if cats else None)
            if not sp["stages"]:
                ids["categoryId"] = int(cat["id"]) if cat else None     # stages off: nothing to match
            elif cat is None:
                self.add("create", "pipeline", f"{key}.category",
                         [("crm.category.add", {"entityTypeId": etid,
                                                "fields": {"name": P.text(sp["title"], self.t.lang),
                                                           "isDefault": "Y"}})],
                         "smart process has no pipeline")
                self._stages_blocked(key, sp["stages"], f"{key}.category")
            else:
                ids["categoryId"] = int(cat["id"])
                rec_stages = (self.rec.get("smart_processes", {}).get(key) or {}).get("stages", {})
                fresh = self.created.get(f"smart_process:{key}") == "pending"
                ids["stages"] = self._stages(key, sp["stages"], etid, int(cat["id"]), rec_stages, fresh)
            rec_fields = (self.rec.get("smart_processes", {}).get(key) or {}).get("fieldNames", {})
            names = self._fields(key, sp["fields"], f"CRM_{row['id']}",
                                 lambda k, tid=int(row["id"]): P.sp_field_name(tid, k), rec_fields, sp=True)
            ids["fieldNames"] = names
            ids["enums"] = self.enums
            ids["fields"] = {k: P.uf_camel(n) for k, n in names.items()}

    def _sp_children_blocked(self, sp: dict) -> None:
        self._stages_blocked(sp["key"], sp["stages"], f"smart_process:{sp['key']}")
        for f in sp["fields"]:
            self.add("create", "field", f"{sp['key']}.field.{f['key']}", [("userfieldconfig.add", {})],
                     "missing", blocked_by=f"smart_process:{sp['key']}")

    def _stages_blocked(self, owner: str, stages: list[dict], blocker: str) -> None:
        for s in stages:
            self.add("create", "stage", f"{owner}.stage.{s['key']}", [("crm.status.add", {})], "missing",
                     blocked_by=blocker)

    # --- stages -------------------------------------------------------------------------------------
    def _stages(self, owner: str, stages: list[dict], etid: int, cat_id: int, rec: dict, fresh: bool) -> dict:
        """Match each declared stage to a row; in a pipeline we just made, also rename the defaults we
        took over and drop the default process stages we did not ask for."""
        eid = P.stage_entity_id(etid, cat_id)
        rows = self.st.stages.get(eid, [])
        prefix = P.stage_prefix(etid, cat_id, rows)
        taken: set[str] = set()
        found: dict[str, str] = {}
        for i, s in enumerate(stages):
            k = f"{owner}.stage.{s['key']}"
            row, how = self._match_stage(s, rows, rec.get(s["key"]), prefix, taken)
            sort = (i + 1) * 10
            if row is None:
                self.add("create", "stage", k, [("crm.status.add", P.status_add(eid, prefix, s, sort, self.t.lang))],
                         "missing")
                continue
            taken.add(row["STATUS_ID"])
            found[s["key"]] = row["STATUS_ID"]
            want = P.status_fields(s, sort, self.t.lang)
            diff = {f: v for f, v in want.items() if str(row.get(f, "")) != str(v)}
            if fresh and how != "name" and diff:
                self.add("update", "stage", k, [("crm.status.update", {"id": int(row["ID"]), "fields": diff})],
                         f"{row['STATUS_ID']}: set {', '.join(sorted(diff))}")
            else:
                self.add("leave", "stage", k, reason=f"{row['STATUS_ID']} by {how}")
        if fresh:
            for row in rows:
                suffix = str(row["STATUS_ID"]).rsplit(":", 1)[-1]
                if row["STATUS_ID"] not in taken and suffix in DEFAULT_PROCESS_STAGES and _sem(row) == "process":
                    self.add("remove", "stage", f"{owner}.stage.{suffix.lower()}",
                             [("crm.status.delete", {"id": int(row["ID"])})], "default stage of a pipeline we made")
        return found

    @staticmethod
    def _match_stage(s: dict, rows: list[dict], rec_id, prefix: str, taken: set) -> tuple[dict | None, str]:
        free = [r for r in rows if r["STATUS_ID"] not in taken]
        for r in free:
            if rec_id and r["STATUS_ID"] == rec_id:
                return r, "recorded"
        for r in free:
            if r["STATUS_ID"] in (prefix + s["code"], s["code"]):
                return r, "code"
        for r in free:
            if _fold(r.get("NAME")) in _names(s["name"]) and _sem(r) == s["semantics"]:
                return r, "name"
        if s["semantics"] != "process":
            for r in free:
                if _sem(r) == s["semantics"]:
                    return r, "semantics"
        return None, ""

    # --- pipelines ----------------------------------------------------------------------------------
    def pipelines(self) -> None:
        deal = CRM_ENTITY_TYPE_IDS["deal"]
        cats = self.st.categories.get(deal, [])
        used: set[int] = set()
        for p in self.m.pipelines:
            key = p["key"]
            rec = self.rec.get("pipelines", {}).get(key) or {}
            row = next((c for c in cats if rec.get("categoryId") is not None
                        and int(c["id"]) == int(rec["categoryId"])), None)
            how = "recorded"
            if row is None:
                row = next((c for c in cats if int(c["id"]) not in used and _fold(c.get("name")) in _names(p["name"])),
                           None)
                how = f"adopted by name {row.get('name')!r}" if row else ""
            if row is None:
                self.add("create", "pipeline", key, [("crm.category.add", P.category_add(deal, p, self.t.lang))],
                         "missing")
                self._stages_blocked(key, p["stages"], f"pipeline:{key}")
                continue
            used.add(int(row["id"]))
            self.add("leave", "pipeline", key, reason=f"category {row['id']} {how}")
            fresh = self.created.get(f"pipeline:{key}") == "pending"
            stages = self._stages(key, p["stages"], deal, int(row["id"]), rec.get("stages", {}), fresh)
            self.ids["pipelines"][key] = {"categoryId": int(row["id"]), "stages": stages}

    # --- user fields --------------------------------------------------------------------------------
    def _fields(self, owner: str, fields: list[dict], uf_entity: str, name_of, rec: dict, sp: bool) -> dict:
        rows = self.st.userfields.get(uf_entity, [])
        self.enums: dict[str, dict] = {}
        by_name = {r["fieldName"]: r for r in rows}
        out: dict[str, str] = {}
        for f in fields:
            k = f"{owner}.field.{f['key']}"
            name = name_of(f["key"])
            row, how = None, ""
            if rec.get(f["key"]) in by_name:
                row, how = by_name[rec[f["key"]]], "recorded"
            elif name in by_name:
                row, how = by_name[name], "name"
            else:
                row = next((r for r in rows if r["userTypeId"] == f["type"] and r["fieldName"] not in out.values()
                            and {_fold(x) for x in r["labels"]} & _names(f["label"])), None)
                how = f"adopted by label ({row['fieldName']})" if row else ""
            if row is None:
                call = (("userfieldconfig.add", P.userfieldconfig_add(uf_entity, name, f, self.t.lang)) if sp else
                        (f"crm.{owner}.userfield.add", P.entity_userfield_add(f, self.t.lang)))
                self.add("create", "field", k, [call], "missing")
                continue
            out[f["key"]] = row["fieldName"]
            if row.get("enum"):
                self.enums[f["key"]] = dict(row["enum"])
            shown = {_fold(x) for x in row["labels"]}
            if row.get("id") is not None and self._manifest_changed(
                    f"field.{k}", f["label"], _fold(P.text(f["label"], self.t.lang)) in shown):
                call = (("userfieldconfig.update", P.userfieldconfig_label_update(row["id"], f)) if sp else
                        (f"crm.{owner}.userfield.update", P.entity_userfield_label_update(row["id"], f)))
                self.add("update", "field", k, [call], f"{row['fieldName']}: label changed in the manifest")
                continue
            self.add("leave", "field", k, reason=f"{row['fieldName']} by {how}")
        return out

    def entity_fields(self) -> None:
        for entity, fields in self.m.fields.items():
            rec = self.rec.get(f"{entity}_fields", {})
            self.ids[f"{entity}_fields"] = self._fields(entity, fields, f"CRM_{entity.upper()}",
                                                        P.entity_field_name, rec, sp=False)
            if self.enums:
                self.ids[f"{entity}_enums"] = self.enums

    # --- placements, events, robots ----------------------------------------------------------------
    def _code(self, template: str) -> str | None:
        if "{" not in template:
            return template
        ref = template.split("{", 1)[1].split("}", 1)[0]
        if ref not in self.owners:
            return None
        return template.replace("{" + ref + "}", str(self.owners[ref]))

    def placements(self) -> None:
        have = {(str(r.get("placement", "")).upper(), r.get("handler")): r for r in self.st.placements}
        declared = set()
        for pl in self.m.placements:
            k = f"placement.{pl['key']}"
            code = self._code(pl["placement"])
            handler = P.url(self.t.public_url, pl["handler"])
            if code is None:
                self.add("create", "placement", k, [("placement.bind", {})], "missing",
                         blocked_by=f"smart_process:{pl['placement'].split('{')[1].split('}')[0]}")
                continue
            declared.add((code, handler))
            bind = P.placement_bind(code, handler, pl, self.t.lang)
            row = have.get((code, handler))
            self.ids["placements"].append({"key": pl["key"], "placement": code, "handler": handler})
            if row is None:
                self.add("create", "placement", k, [("placement.bind", bind)], f"{code} missing")
            elif _fold(row.get("title")) not in _names(pl["title"]):
                self.add("update", "placement", k, [("placement.unbind", {"PLACEMENT": code, "HANDLER": handler}),
                                                    ("placement.bind", bind)], f"{code}: title changed")
            else:
                self.add("leave", "placement", k, reason=code)
        for old in self.rec.get("placements", []):
            pair = (old["placement"], old["handler"])
            if pair not in declared and pair in have:
                self.add("remove", "placement", f"placement.{old.get('key', old['placement'])}",
                         [("placement.unbind", {"PLACEMENT": pair[0], "HANDLER": pair[1]})], "no longer declared")

    def events(self) -> None:
        """Online bindings are (event, handler); offline ones (event_type=offline, reference §2.4) have no
        handler and show in event.get as ``offline: 1`` — their key is (event, OFFLINE)."""
        have = {event_key(r) for r in self.st.events}
        declared = set()
        for e in self.m.events:
            offline = e.get("mode") == "offline"
            pair = (e["event"], OFFLINE if offline else P.url(self.t.public_url, e["handler"]))
            declared.add(pair)
            self.ids["events"].append({"event": pair[0], "handler": pair[1]})
            k = f"event.{e['event']}" + (".offline" if offline else "")
            if pair in have:
                self.add("leave", "event", k, reason=pair[1])
                continue
            params = {"event": pair[0], "event_type": "offline"} if offline else \
                {"event": pair[0], "handler": pair[1]}
            if e.get("options"):
                params["options"] = dict(e["options"])
            self.add("create", "event", k, [("event.bind", params)], "missing")
        for old in self.rec.get("events", []):
            pair = (old["event"], old["handler"])
            if pair not in declared and pair in have:
                self.add("remove", "event", f"event.{pair[0]}", [("event.unbind", unbind_params(*pair))],
                         "no longer declared")

    def robots(self) -> None:
        have = set(self.st.robots)
        rec = self.rec.get("robots", {})
        for r in self.m.robots:
            k = f"robot.{r['code']}"
            owner = r.get("document_type")
            if owner and owner not in self.owners:
                self.add("create", "robot", k, [("bizproc.robot.add", {})], "missing",
                         blocked_by=f"smart_process:{owner}")
                continue
            doc = P.document_type(owner, self.owners) if owner else None
            params = P.robot_add(r, P.url(self.t.public_url, r["handler"]), self.t.auth_user_id, doc)
            fp = P.fingerprint(params)
            self.ids["robots"][r["code"]] = fp
            if r["code"] not in have:
                self.add("create", "robot", k, [("bizproc.robot.add", params)], "missing")
            elif rec.get(r["code"]) != fp:
                fields = {x: v for x, v in params.items() if x != "CODE"}
                self.add("update", "robot", k, [("bizproc.robot.update", {"CODE": r["code"], "FIELDS": fields})],
                         "definition changed" if r["code"] in rec else "not recorded by this installer")
            else:
                self.add("leave", "robot", k)
        declared = {r["code"] for r in self.m.robots}
        for code in rec:
            if code not in declared and code in have:
                self.add("remove", "robot", f"robot.{code}", [("bizproc.robot.delete", {"CODE": code})],
                         "no longer declared")


def make_plan(manifest: Manifest, state: PortalState, recorded: dict | None, target: Target) -> Plan:
    """Order matters only for readability and blocking: types before what hangs on them."""
    p = _Planner(manifest, state, recorded, target)
    p.smart_processes()
    p.pipelines()
    p.entity_fields()
    p.placements()
    p.events()
    p.robots()
    return Plan(p.steps, p.ids)
