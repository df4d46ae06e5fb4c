"""The rules document: what a portal's administrator declares (a JSON file, exported and imported as is),
validated before anything is stored, with errors that name the path and — for a file — its line.

```
{"version": 1,
 "calendar": {"tz": "Europe/Moscow", "hours": ["09:00", "18:00"]},
 "rules": [{"id": "payment_wait", "title": {"ru": "...", "en": "..."}, "entity": "deal", "category": 2,
            "trigger": {"type": "time_in_stage", "stage": "C2:PAYMENT", "after": {"business_days": 2},
                        "repeat": {"every": {"business_days": 2}, "times": 3}},
            "conditions": [{"field": "UF_CRM_PAID", "op": "empty"}],
            "actions": [{"type": "notify", "to": ["responsible", "head"], "message": {"ru": "...", "en": "..."}}]}]}
```

Triggers: ``stage_entered`` {stage | [stages]}; ``field_changed`` {field, first_set?} (first_set: once per
entity, when the field first gets a value); ``time_in_stage`` {stage, after, repeat?}; ``date_reached``
{field, offset?, repeat?}; ``stage_moved_back`` {past} (a guard: the entity went back before ``past``
after having reached it). Durations: {"business_days": n} | {"working_hours": h} | {"hours": h} | {"days": n}
(hours/days are calendar time, may be negative in ``offset``).

Conditions (all must hold): {field, op: eq|ne|in|empty|not_empty|gt|gte|lt|lte, value?}.

Actions: ``notify`` {to, message}; ``task`` {title, description?, responsible?, deadline?, auditors?,
accomplices?}; ``move_stage`` {stage}; ``set_field`` {field, value}; ``assign_number`` {field, format?,
counter?} (format placeholders {yyyy}, {yy}, {n}, {n:05}); ``revert_move`` {} (a stage_moved_back guard: back
to the stage it came from at or after ``past``; any other trigger — e.g. stage_entered with the required
fields empty as conditions, an entry guard — back to the previous stage; {reason} = the rule's title).
Recipients: "responsible" (the entity's ASSIGNED_BY_ID), "head" (head of the responsible's department),
{"user": id}, {"role": app role}, {"field": "UF_…"} (an employee field of the entity).
Text may use {ID}, {TITLE}, {STAGE}, {n} (the reminder's number), {times}, {reason}, {number}, {COMMENTS},
{link} (send_form).

Entities: "deal" (the default; ``category`` = its pipeline) and "lead" (its stage is STATUS_ID of the
STATUS list; no pipeline). ``match``: "all" (the default) or "any" of the conditions. A condition is a field
test or a named guard check of b24app/guards.py ({"check": "paid_in_full", "is": false}: the 1C paid gate's
own verdict), so an entry guard and the paid gate decide with one mechanism.

More triggers: ``schedule`` {at: ["10:00", …], working_days?} — at those local times (of working days),
for every entity the conditions select (give STAGE_ID conditions: they narrow the read).
More actions: ``task`` also takes {checklist: [text], deadline_field: "UF_…"} (the deadline counted from
that date field, e.g. {"hours": -2} before the shipment); ``copy_to_category`` {category, stage?} — a copy
of the deal in another pipeline (the NPS pipeline), remembered for the actions after it; ``send_form``
{form: "nps", review_url?} — the client gets a one-answer public link (through the portal's messenger
or SMS where connected, else the responsible is asked to send it).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from b24app.errors import Said, SettingsError, said
from b24app.guards import known_checks
from b24app.roles import ROLES

from .calendar import BusinessCalendar, CalendarError

KV_KEY = "rules.document"
EMPTY: dict = {"version": 1, "rules": []}

_text = {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 2000},
                   {"type": "object", "properties": {"ru": {"type": "string", "maxLength": 2000},
                                                     "en": {"type": "string", "maxLength": 2000}},
                    "additionalProperties": False, "minProperties": 1}]}
_field = {"type": "string", "pattern": r"^[A-Z][A-Z0-9_]{0,63}$"}
_stage = {"type": "string", "pattern": r"^[A-Za-z0-9_:\-]{1,64}$"}
_duration = {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
             "properties": {"business_days": {"type": "integer", "minimum": 0, "maximum": 365},
                            "working_hours": {"type": "number", "minimum": 0, "maximum": 2000},
                            "hours": {"type": "number", "minimum": -8760, "maximum": 8760},
                            "days": {"type": "number", "minimum": -365, "maximum": 365}}}
_repeat = {"type": "object", "required": ["every", "times"], "additionalProperties": False,
           "properties": {"every": _duration, "times": {"type": "integer", "minimum": 1, "maximum": 100}}}
_recipient = {"oneOf": [{"enum": ["responsible", "head"]},
                        {"type": "object", "required": ["user"], "additionalProperties": False,
                         "properties": {"user": {"type": "integer", "minimum": 1}}},
                        {"type": "object", "required": ["role"], "additionalProperties": False,
                         "properties": {"role": {"enum": list(ROLES)}}},
                        {"type": "object", "required": ["field"], "additionalProperties": False,
                         "properties": {"field": _field}}]}


def _kind(name: str, props: dict, required: list[str] = ()) -> dict:
    return {"type": "object", "required": ["type", *required], "additionalProperties": False,
            "properties": {"type": {"const": name}, **props}}


TRIGGERS = {
    "stage_entered": _kind("stage_entered", {"stage": {"oneOf": [_stage, {"type": "array", "items": _stage,
                                                                          "minItems": 1}]}}, ["stage"]),
    "field_changed": _kind("field_changed", {"field": _field, "first_set": {"type": "boolean"}}, ["field"]),
    "time_in_stage": _kind("time_in_stage", {"stage": _stage, "after": _duration, "repeat": _repeat},
                           ["stage", "after"]),
    "date_reached": _kind("date_reached", {"field": _field, "offset": _duration, "repeat": _repeat}, ["field"]),
    "stage_moved_back": _kind("stage_moved_back", {"past": _stage}, ["past"]),
    "schedule": _kind("schedule", {"at": {"type": "array", "minItems": 1, "maxItems": 24,
                                          "items": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}},
                                   "working_days": {"type": "boolean"}}, ["at"]),
}
ACTIONS = {
    "notify": _kind("notify", {"to": {"type": "array", "items": _recipient, "minItems": 1}, "message": _text},
                    ["to", "message"]),
    "task": _kind("task", {"title": _text, "description": _text, "responsible": _recipient, "deadline": _duration,
                           "auditors": {"type": "array", "items": _recipient},
                           "accomplices": {"type": "array", "items": _recipient},
                           "checklist": {"type": "array", "maxItems": 50, "items": _text},
                           "deadline_field": _field}, ["title"]),
    "move_stage": _kind("move_stage", {"stage": _stage}, ["stage"]),
    "set_field": _kind("set_field", {"field": _field, "value": {"type": ["string", "number", "boolean", "null"]}},
                       ["field", "value"]),
    "assign_number": _kind("assign_number", {"field": _field,
                                             "format": {"type": "string", "minLength": 1, "maxLength": 64},
                                             "counter": {"type": "string", "pattern": r"^[a-z0-9_]{1,32}$"}},
                           ["field"]),
    "revert_move": _kind("revert_move", {}),
    "copy_to_category": _kind("copy_to_category", {"category": {"type": "integer", "minimum": 0},
                                                   "stage": _stage}, ["category"]),
    "send_form": _kind("send_form", {"form": {"enum": ["nps"]},
                                     "review_url": {"type": "string", "pattern": "^https://", "maxLength": 500},
                                     "positive_stage": _stage, "negative_stage": _stage, "message": _text},
                       ["form"]),
}
OPS = ["eq", "ne", "in", "empty", "not_empty", "gt", "gte", "lt", "lte"]
_field_condition = {"type": "object", "required": ["field", "op"], "additionalProperties": False,
                    "properties": {"field": _field, "op": {"enum": OPS},
                                   "value": {"type": ["string", "number", "boolean", "array", "null"]}}}
_check_condition = {"type": "object", "required": ["check"], "additionalProperties": False,
                    "properties": {"check": {"type": "string", "pattern": r"^[a-z0-9_]{1,40}$"},
                                   "is": {"type": "boolean"}}}
_condition = {"oneOf": [_field_condition, _check_condition]}


def _tagged(table: dict, what: str) -> dict:
    """A tagged union: the "type" picks the branch, so an error names that branch's fault, not N of them."""
    return {"type": "object", "required": ["type"],
            "properties": {"type": {"enum": list(table)}},
            "allOf": [{"if": {"properties": {"type": {"const": k}}, "required": ["type"]}, "then": v}
                      for k, v in table.items()]}


SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["version", "rules"], "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "calendar": {"type": "object", "additionalProperties": False,
                     "properties": {"tz": {"type": "string"},
                                    "hours": {"type": "array", "minItems": 2, "maxItems": 2,
                                              "items": {"type": "string", "pattern": r"^\d\d:\d\d$"}}}},
        "rules": {"type": "array", "maxItems": 500, "items": {
            "type": "object", "required": ["id", "trigger", "actions"], "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_.\-]{0,63}$"},
                "title": _text, "enabled": {"type": "boolean"},
                "entity": {"enum": ["deal", "lead"]},
                "match": {"enum": ["all", "any"]},
                "category": {"type": "integer", "minimum": 0},
                "trigger": _tagged(TRIGGERS, "trigger"),
                "conditions": {"type": "array", "items": _condition, "maxItems": 20},
                "actions": {"type": "array", "items": _tagged(ACTIONS, "action"), "minItems": 1, "maxItems": 20},
            }}},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


class RulesError(SettingsError):
    """A rules document that cannot be stored: the message names the path (``rules[2].trigger.after``)
    and, for a file, the line."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None):
        ru = message.ru if isinstance(message, Said) else message     # the schema's own words are English
        super().__init__(message, path=path)
        self.line = line
        en = f"line {line}: {self.args[0]}" if line else self.args[0]
        self.args = (Said(en, f"строка {line}: {ru}" if line else ru),)
        self.message = Said(self.message, ru) if not isinstance(self.message, Said) else self.message


@dataclass(frozen=True)
class Rule:
    id: str
    spec: dict

    @property
    def trigger(self) -> dict:
        return self.spec["trigger"]

    @property
    def kind(self) -> str:
        return self.spec["trigger"]["type"]

    @property
    def actions(self) -> list[dict]:
        return self.spec["actions"]

    @property
    def conditions(self) -> list[dict]:
        return self.spec.get("conditions") or []

    @property
    def category(self) -> int | None:
        c = self.spec.get("category")
        return None if c is None else int(c)

    @property
    def entity(self) -> str:
        return self.spec.get("entity") or "deal"

    @property
    def match_any(self) -> bool:
        return self.spec.get("match") == "any"

    @property
    def enabled(self) -> bool:
        return self.spec.get("enabled", True) is not False

    def fields(self) -> set[str]:
        """The entity fields the rule reads (for the select of a read)."""
        t = self.trigger
        out = {c["field"] for c in self.conditions if "field" in c} | {t[k] for k in ("field",) if k in t}
        for a in self.actions:
            out |= {a["field"]} if a["type"] in ("assign_number", "set_field") else set()
            out |= {a["deadline_field"]} if a.get("deadline_field") else set()
            for r in [*a.get("to", []), a.get("responsible"), *a.get("auditors", []), *a.get("accomplices", [])]:
                if isinstance(r, dict) and "field" in r:
                    out.add(r["field"])
        return out


@dataclass(frozen=True)
class Document:
    raw: dict
    rules: tuple[Rule, ...]
    calendar: BusinessCalendar

    def by_kind(self, *kinds: str) -> list[Rule]:
        return [r for r in self.rules if r.enabled and r.kind in kinds]


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "$"


def _best(errors: list) -> jsonschema.ValidationError:
    """The deepest error (the most specific place); among equals, the first."""
    return max(errors, key=lambda e: (len(e.absolute_path), -errors.index(e)))


def validate(doc: Any, lines: "_Lines | None" = None) -> Document:
    """The document → a Document, or RulesError naming the first fault's path (and line)."""
    errors = list(_VALIDATOR.iter_errors(doc))
    if errors:
        e = _best(errors)
        if e.validator in ("oneOf", "anyOf") and e.context:
            inner = _best(list(e.context))
            msg = inner.message if len(inner.absolute_path) else e.message
        else:
            msg = e.message
        parts = list(e.absolute_path)
        raise RulesError(msg, path=_path(parts), line=lines.line_of(parts) if lines else None)
    seen: set[str] = set()
    for i, r in enumerate(doc["rules"]):
        if r["id"] in seen:
            raise RulesError(said(f"rule id {r['id']!r} is used twice",
                                  f"идентификатор правила {r['id']!r} встречается дважды"), path=f"rules[{i}].id",
                             line=lines.line_of(["rules", i, "id"]) if lines else None)
        seen.add(r["id"])
        if r.get("entity") == "lead" and r.get("category") is not None:
            raise RulesError(said("a lead rule has no pipeline (category)",
                                  "у правила для лидов нет воронки (category)"),
                             path=f"rules[{i}].category",
                             line=lines.line_of(["rules", i, "category"]) if lines else None)
        for j, c in enumerate(r.get("conditions") or []):
            if "check" in c and c["check"] not in known_checks():
                names = ", ".join(sorted(known_checks()))
                raise RulesError(said(f"unknown check {c['check']!r} (one of {names})",
                                      f"неизвестная проверка {c['check']!r} (есть: {names})"),
                                 path=f"rules[{i}].conditions[{j}].check",
                                 line=lines.line_of(["rules", i, "conditions", j, "check"]) if lines else None)
        for j, a in enumerate(r["actions"]):
            if r.get("entity") == "lead" and a["type"] in ("copy_to_category", "send_form", "assign_number"):
                raise RulesError(said(f"action {a['type']!r} is for deals only",
                                      f"действие {a['type']!r} — только для сделок"),
                                 path=f"rules[{i}].actions[{j}].type",
                                 line=lines.line_of(["rules", i, "actions", j, "type"]) if lines else None)
            if a["type"] == "assign_number":
                _check_format(a.get("format") or DEFAULT_FORMAT, f"rules[{i}].actions[{j}].format",
                              lines.line_of(["rules", i, "actions", j, "format"]) if lines else None)
    try:
        cal = BusinessCalendar.of(doc.get("calendar"))
    except CalendarError as exc:
        raise RulesError(str(exc), path="calendar", line=lines.line_of(["calendar"]) if lines else None) from None
    return Document(raw=doc, rules=tuple(Rule(r["id"], r) for r in doc["rules"]), calendar=cal)


DEFAULT_FORMAT = "{yyyy}-{n:05}"
_PLACEHOLDER = re.compile(r"\{([a-z]+)(?::(0?\d{1,2}))?\}")


def format_number(fmt: str, year: int, n: int) -> str:
    def sub(m):
        name, width = m.group(1), m.group(2)
        if name == "yyyy":
            return f"{year:04d}"
        if name == "yy":
            return f"{year % 100:02d}"
        if name == "n":
            return format(n, width) if width else str(n)
        raise ValueError(name)
    return _PLACEHOLDER.sub(sub, fmt)


def _check_format(fmt: str, path: str, line) -> None:
    names = [m.group(1) for m in _PLACEHOLDER.finditer(fmt)]
    bad = [n for n in names if n not in ("yyyy", "yy", "n")]
    if bad or "n" not in names:
        raise RulesError(said(f"number format {fmt!r}: use {{yyyy}}, {{yy}} and {{n}} or {{n:05}} ({{n}} is required)",
                              f"формат номера {fmt!r}: используйте {{yyyy}}, {{yy}} и {{n}} или {{n:05}} "
                              f"({{n}} обязателен)"), path=path, line=line)


# --- files: JSON text → document, errors with line numbers -------------------------------------------------
class _Lines:
    """Where each value of a JSON text starts (path → 1-based line), by walking the text with the
    standard decoder's own scanners, so a schema error in an imported file names its line."""

    _ws = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str):
        self.text, self.pos = text, {}
        self._dec = json.JSONDecoder()
        self._walk(self._skip(0), ())

    def _skip(self, i: int) -> int:
        return self._ws.match(self.text, i).end()

    def _walk(self, i: int, path: tuple) -> int:
        self.pos[path] = i
        ch = self.text[i:i + 1]
        if ch == "{":
            i = self._skip(i + 1)
            if self.text[i] == "}":
                return i + 1
            while True:
                key, i = self._dec.raw_decode(self.text, i)
                i = self._skip(self._skip(i) + 1)           # past ':'
                i = self._skip(self._walk(i, path + (key,)))
                if self.text[i] == "}":
                    return i + 1
                i = self._skip(i + 1)                        # past ','
        if ch == "[":
            i, n = self._skip(i + 1), 0
            if self.text[i] == "]":
                return i + 1
            while True:
                i = self._skip(self._walk(i, path + (n,)))
                n += 1
                if self.text[i] == "]":
                    return i + 1
                i = self._skip(i + 1)
        _value, end = self._dec.raw_decode(self.text, i)
        return end

    def line_of(self, parts) -> int | None:
        parts = tuple(parts)
        while parts not in self.pos and parts:
            parts = parts[:-1]
        i = self.pos.get(parts)
        return None if i is None else self.text.count("\n", 0, i) + 1


def parse_text(text: str) -> Document:
    """A rules file (JSON) → Document; a syntax error names its line and column."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesError(said(f"not valid JSON: {exc.msg} (column {exc.colno})",
                              f"это не JSON: {exc.msg} (столбец {exc.colno})"), line=exc.lineno) from None
    return validate(doc, _Lines(text))


def dump(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def load(kv, member_id: str) -> Document:
    return validate(kv.get(member_id, KV_KEY) or EMPTY)


def save(kv, member_id: str, doc: Document) -> None:
    kv.set(member_id, KV_KEY, doc.raw)


def text(value, lang: str) -> str:
    if isinstance(value, dict):
        return value.get(lang) or value.get("ru") or value.get("en") or ""
    return str(value or "")
