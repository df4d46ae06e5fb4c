"""Who runs a step and what they touch: the Actor (a person from a page, or the app for a robot), the kv
records the flow keeps beside the portal's items, the people (engineers, departments) and the two side
effects every step has — a notification (``im.notify.system.add``) and a timeline line.

The portal is the record of stages and amounts; kv keeps what the portal has no place for: the
variants, the question/answer exchange, the chosen amounts, the step times (SLA: requested → taken →
done; the rules engine of issue 15 reads them for its reminders, see docs/architecture.md).

Tokens: the step itself (the Calculation/Work item, the deal's product rows) runs with the actor's own
client — for a person their token, so the portal applies their CRM rights and records them as author;
what follows from it by itself (the deal's stage, notifications, timeline lines) is the app's own work,
like a robot's, and runs with the app's token.
"""
from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps

from b24app import roles as app_roles
from b24app.errors import B24Error
from install.registry import installed_ids

from .errors import CalcConflict, CalcNotFound

CALC_KEY = "calcwork.calc:{id}"          # one Calculation's record
DEAL_KEY = "calcwork.deal:{id}"          # {"calcs": [ids], "open": id | None, "works": [ids], "open_work": id}
WORK_KEY = "calcwork.work:{id}"          # one Work's record


@dataclass
class Actor:
    svc: object
    member_id: str
    user_id: int | None                  # None: the app itself (a robot call)
    lang: str
    roles: tuple[str, ...] = ()
    _names: dict = field(default_factory=dict)

    @property
    def client(self):
        return self.svc.client(self.member_id)

    @property
    def app(self):
        fn = getattr(self.svc, "app_client", None)
        return fn(self.member_id) if fn is not None else self.svc.client(self.member_id)

    @property
    def kv(self):
        return self.svc.store.kv

    @property
    def ids(self):
        return installed_ids(self.svc.store, self.member_id)

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def user(self, user_id: int) -> dict | None:
        uid = int(user_id)
        if uid not in self._names:
            rows = self.app.call("user.get", {"ID": uid}) or []
            self._names[uid] = rows[0] if rows else None
        return self._names[uid]

    def name(self, user_id: int | None) -> str:
        if user_id is None:
            return "b24app"
        u = self.user(user_id) or {}
        full = " ".join(x for x in (u.get("NAME"), u.get("LAST_NAME")) if x)
        return full or f"#{user_id}"


# --- one step at a time per record ------------------------------------------------------------------------
LOCK_SECONDS = 60.0          # a holder that died frees the record after this
LOCK_WAIT = 20.0             # how long a second click waits for the first before it is told "busy"


@contextmanager
def locked(actor: Actor, kind: str, rid: int):
    """The record ``kind:rid`` for this step alone: two clicks (two browser tabs, a button and a robot, two
    workers) that both read-modify-write it run one after the other, so the second sees what the first
    wrote (the step already made, the stage moved on) instead of writing over it. A lease row in our store
    (KV.try_lock), not a process lock: the web processes and the worker share it."""
    owner, key = uuid.uuid4().hex, f"calcwork.{kind}:{int(rid)}"
    deadline = time.monotonic() + LOCK_WAIT
    while not actor.kv.try_lock(actor.member_id, key, owner, LOCK_SECONDS):
        if time.monotonic() > deadline:
            raise CalcConflict(actor.lang, "busy")
        time.sleep(0.05)
    try:
        yield
    finally:
        actor.kv.unlock(actor.member_id, key, owner)


def serial(kind: str):
    """A step ``fn(actor, rid, ...)`` run under ``locked(actor, kind, rid)``; ``fn.unlocked`` is the bare
    step, for a step that calls another inside its own lock."""
    def deco(fn):
        @wraps(fn)
        def run(actor, rid, *args, **kwargs):
            with locked(actor, kind, rid):
                return fn(actor, rid, *args, **kwargs)
        run.unlocked = fn
        return run
    return deco


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record(actor: Actor, calc_id: int) -> dict:
    rec = actor.kv.get(actor.member_id, CALC_KEY.format(id=int(calc_id)))
    if not rec:
        raise CalcNotFound(actor.lang, "calc_not_found", calc=calc_id)
    return rec


def save(actor: Actor, rec: dict) -> None:
    actor.kv.set(actor.member_id, CALC_KEY.format(id=int(rec["id"])), rec)


def deal_record(actor: Actor, deal_id: int) -> dict:
    return actor.kv.get(actor.member_id, DEAL_KEY.format(id=int(deal_id))) or \
        {"calcs": [], "open": None, "works": [], "open_work": None}


def save_deal(actor: Actor, deal_id: int, rec: dict) -> None:
    actor.kv.set(actor.member_id, DEAL_KEY.format(id=int(deal_id)), rec)


def work_record(actor: Actor, work_id: int) -> dict | None:
    return actor.kv.get(actor.member_id, WORK_KEY.format(id=int(work_id)))


def save_work(actor: Actor, rec: dict) -> None:
    actor.kv.set(actor.member_id, WORK_KEY.format(id=int(rec["id"])), rec)


# --- people ---------------------------------------------------------------------------------------------
def departments_of(actor: Actor, user_id: int) -> list[int]:
    u = actor.user(user_id) or {}
    return [int(d) for d in u.get("UF_DEPARTMENT") or [] if str(d).isdigit()]


def is_engineer(actor: Actor, user_id: int) -> bool:
    doc = app_roles.load(actor.kv, actor.member_id)
    held = app_roles.resolve(doc, user_id, departments_of(actor, user_id), False)
    return app_roles.ENGINEER in held


def engineers(actor: Actor, department: int | None = None) -> list[int]:
    """Holders of the engineer role (given to them or to their department), in one department or all."""
    doc = app_roles.load(actor.kv, actor.member_id)
    ids = {int(u) for u, r in doc["users"].items() if app_roles.ENGINEER in r}
    for dep, r in doc["departments"].items():
        if app_roles.ENGINEER in r:
            for u in actor.app.call("user.get", {"FILTER": {"UF_DEPARTMENT": int(dep), "ACTIVE": True}}) or []:
                ids.add(int(u["ID"]))
    if department is not None:
        members = {int(u["ID"]) for u in actor.app.call(
            "user.get", {"FILTER": {"UF_DEPARTMENT": int(department), "ACTIVE": True}}) or []}
        ids &= members
    return sorted(ids)


def role_holders(actor: Actor, role: str) -> list[int]:
    """Who holds ``role`` in the app (given to them or to their department)."""
    doc = app_roles.load(actor.kv, actor.member_id)
    ids = {int(u) for u, r in doc["users"].items() if role in r}
    for dep, r in doc["departments"].items():
        if role in r:
            for u in actor.app.call("user.get", {"FILTER": {"UF_DEPARTMENT": int(dep), "ACTIVE": True}}) or []:
                ids.add(int(u["ID"]))
    return sorted(ids)


def heads(actor: Actor) -> list[int]:
    """Who approves an amount beyond the allowed range: the service heads; where the app has none, its
    administrators; where it has none either, the portal administrator who installed the app."""
    found = role_holders(actor, app_roles.SERVICE_HEAD) or role_holders(actor, app_roles.ADMIN)
    if not found:
        portal = actor.svc.store.portals.get(actor.member_id)
        found = [int(portal.user_id)] if portal and portal.user_id else []
    return found


def roles_of(actor: Actor, user_id: int) -> tuple[str, ...]:
    """The app roles a person holds now (for a robot that names them: it acts only as far as they may)."""
    u = actor.user(user_id) or {}
    admin = str(u.get("IS_ADMIN") or "").upper() in ("Y", "TRUE", "1")
    return app_roles.resolve(app_roles.load(actor.kv, actor.member_id), int(user_id), departments_of(actor, user_id),
                             admin)


def department_name(actor: Actor, dep_id: int) -> str:
    """The department's name; ``#id`` where the portal does not give it (department.get needs the
    ``department`` scope, which app.json does not ask for)."""
    try:
        rows = actor.app.call("department.get", {"ID": int(dep_id)}) or []
    except B24Error:
        rows = []
    return str(rows[0]["NAME"]) if rows else f"#{dep_id}"


# --- side effects ---------------------------------------------------------------------------------------
def portal_url(actor: Actor, path: str) -> str:
    portal = actor.svc.store.portals.get(actor.member_id)
    base = portal.client_endpoint.rstrip("/")
    base = base[:-len("/rest")] if base.endswith("/rest") else base
    return base + path


def notify(actor: Actor, user_ids, message: str, tag: str) -> list[int]:
    """``im.notify.system.add`` to each person once per step: the TAG makes a repeated send replace the
    earlier notification instead of adding a second one (im docs: a TAG replaces its predecessor)."""
    sent = []
    for uid in sorted({int(u) for u in user_ids if u}):
        sent.append(actor.app.call("im.notify.system.add", {"USER_ID": uid, "MESSAGE": message,
                                                           "TAG": f"b24app:{tag}:{uid}"}))
    return sent


def timeline(actor: Actor, entity_type: str, entity_id: int, comment: str, files: list | None = None) -> int:
    """A timeline comment; ``files`` = [[name, base64], ...] attached (FILES: a direct call, never a batch)."""
    fields = {"ENTITY_ID": int(entity_id), "ENTITY_TYPE": entity_type, "COMMENT": comment}
    if files:
        fields["FILES"] = files
    return actor.app.call("crm.timeline.comment.add", {"fields": fields})
