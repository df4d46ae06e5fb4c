"""App roles: who may do what in b24app, per portal, decided on the server.

A portal administrator is always an app administrator (the portal says so: ``user.admin`` with the
person's own token). Everyone else gets the roles an administrator assigned to them or to one of their
departments (settings page, kv ``roles``); a person with no role at all is a field worker — the least a
portal employee who can open the app may do: his own jobs, visits and route.

The portal's CRM permissions apply on top of this (every page action runs with the person's own token,
b24app/acting.py): a role can only narrow what the portal allows, never widen it.
"""
from __future__ import annotations

from .errors import said
from .i18n import lang_of

ADMIN = "admin"
DISPATCHER = "dispatcher"
SERVICE_HEAD = "service_head"
ENGINEER = "engineer"
SALES_MANAGER = "sales_manager"
FIELD_WORKER = "field_worker"
MECHANIC = "mechanic"

ROLES = (ADMIN, DISPATCHER, SERVICE_HEAD, ENGINEER, SALES_MANAGER, FIELD_WORKER, MECHANIC)
ASSIGNABLE = ROLES            # an admin may also name app administrators who are not portal admins
KV_KEY = "roles"

NAMES = {
    "ru": {ADMIN: "администратор", DISPATCHER: "диспетчер", SERVICE_HEAD: "руководитель сервиса",
           ENGINEER: "инженер", SALES_MANAGER: "менеджер по продажам", FIELD_WORKER: "выездной сотрудник",
           MECHANIC: "механик"},
    "en": {ADMIN: "administrator", DISPATCHER: "dispatcher", SERVICE_HEAD: "service head",
           ENGINEER: "engineer", SALES_MANAGER: "sales manager", FIELD_WORKER: "field worker",
           MECHANIC: "mechanic"},
}

# What each action needs: any one of these roles. One table, read by the web kit's decorator and by
# the pages (which buttons to show); the server check is the one that counts.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "settings": (ADMIN,),                                        # any settings, roles, 1C review, install retry
    "install.errors": (ADMIN,),
    "dispatch": (ADMIN, DISPATCHER, SERVICE_HEAD),               # assign, reassign, reschedule, swap, pins
    "jobs.all": (ADMIN, DISPATCHER, SERVICE_HEAD),               # the whole map, anyone's day and route
    "desk": (ADMIN, DISPATCHER, SERVICE_HEAD),                   # intake screen: callers, service requests
    "reports": (ADMIN, DISPATCHER, SERVICE_HEAD, SALES_MANAGER),  # dashboards and their CSV
    "visits.team": (ADMIN, DISPATCHER, SALES_MANAGER),           # another person's visits, day route, stats
    "visits.own": ROLES,                                         # one's own visits, company card, phone page
    "jobs.own": ROLES,                                           # one's own jobs and route on the map
    "calc.view": (ADMIN, SERVICE_HEAD, SALES_MANAGER, ENGINEER),  # calculations, variants, works, catalog
    "calc.request": (ADMIN, SERVICE_HEAD, SALES_MANAGER),        # send to calculation, answer, pick, order work
    "calc.engineer": (ADMIN, SERVICE_HEAD, ENGINEER),            # take, ask, variants, done; accept/finish work
    # the service desk's work orders (desk/ — seed 003): the registry, each specialist's own block
    "service.view": (ADMIN, DISPATCHER, SERVICE_HEAD, ENGINEER),  # the work-order registry, machine cards, stats
    "service.engineer": (SERVICE_HEAD, ENGINEER),                # the engineer's block: parts, tool cell, claim
    "service.head": (SERVICE_HEAD,),                             # pick the mechanic, reschedule, approve claims
    # own work orders: done, act, hours, files. A phone link's session carries field-worker rights only, so the
    # mechanic's phone page gets in as a field worker; the order's own mechanic field decides (desk.claims)
    "service.mechanic": (SERVICE_HEAD, MECHANIC, FIELD_WORKER),
}


class RolesError(ValueError):
    """A roles document that cannot be stored (unknown role, ids that are not ids)."""


def _ids(value, what: str) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise RolesError(said(f"{what}: an object {{id: [roles]}} is expected", f"{what}: нужен объект {{id: [роли]}}"))
    out: dict[str, list[str]] = {}
    for key, roles in value.items():
        if not str(key).isdigit() or int(key) <= 0:
            whose = "сотрудника" if what == "users" else "отдела"
            raise RolesError(said(f"{what}: {key!r} is not a {what[:-1]} id", f"{what}: {key!r} — не id {whose}"))
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise RolesError(said(f"{what}[{key}]: a list of role names is expected",
                                  f"{what}[{key}]: нужен список ролей"))
        unknown = [r for r in roles if r not in ASSIGNABLE]
        if unknown:
            raise RolesError(said(f"{what}[{key}]: unknown role {unknown[0]!r} (one of {', '.join(ASSIGNABLE)})",
                                  f"{what}[{key}]: неизвестная роль {unknown[0]!r} (одна из {', '.join(ASSIGNABLE)})"))
        if roles:
            out[str(int(key))] = sorted(set(roles), key=ROLES.index)
    return out


def validate(doc) -> dict:
    """``{"users": {id: [roles]}, "departments": {id: [roles]}}`` → the normalised document."""
    if not isinstance(doc, dict):
        raise RolesError(said('a JSON object {"users": {...}, "departments": {...}} is expected',
                              'нужен JSON-объект {"users": {...}, "departments": {...}}'))
    extra = set(doc) - {"users", "departments"}
    if extra:
        raise RolesError(said(f"unknown key {sorted(extra)[0]!r}", f"неизвестный ключ {sorted(extra)[0]!r}"))
    return {"users": _ids(doc.get("users") or {}, "users"),
            "departments": _ids(doc.get("departments") or {}, "departments")}


def load(kv, member_id: str) -> dict:
    doc = kv.get(member_id, KV_KEY) or {}
    return {"users": dict(doc.get("users") or {}), "departments": dict(doc.get("departments") or {})}


def save(kv, member_id: str, doc) -> dict:
    clean = validate(doc)
    kv.set(member_id, KV_KEY, clean)
    return clean


def resolve(doc: dict, user_id: int | None, departments, is_portal_admin: bool) -> tuple[str, ...]:
    """The roles one person holds now: portal admin → administrator; assigned to him or to any of his
    departments; nothing assigned → field worker."""
    held: set[str] = set()
    if is_portal_admin:
        held.add(ADMIN)
    if user_id is not None:
        held.update(doc.get("users", {}).get(str(int(user_id)), []))
    for dep in departments or []:
        held.update(doc.get("departments", {}).get(str(dep), []))
    if not held:
        held.add(FIELD_WORKER)
    return tuple(r for r in ROLES if r in held)


def allowed(roles, action: str) -> bool:
    return any(r in PERMISSIONS[action] for r in roles)


def needed_text(action: str, lang: str) -> str:
    """The 403 text, in the person's language (``ua``/``by``/``kz`` portals read Russian, as every page)."""
    ru = lang_of(lang) == "ru"
    names = NAMES["ru" if ru else "en"]
    who = ", ".join(names[r] for r in PERMISSIONS[action])
    if ru:
        return f"Недостаточно прав в приложении: нужна роль {who}."
    return f"Not allowed in the app: this needs the role {who}."
