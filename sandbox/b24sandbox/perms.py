"""CRM permissions per user: roles with a level per entity type and action, enforced by every CRM read
and write of the sandbox, so code acting with a user's own token sees what that user would see.

Verified (src ``yuliai/bitrix-modules``, docs ``bitrix24/b24restdocs``):
- Levels (src crm/include.php ``BX_CRM_PERM_*``): ``''`` none, ``A`` own (responsible = the user), ``D`` own +
  department, ``F`` own + department + subdepartments, ``O`` all open, ``X`` all (what O adds to F — every item
  with OPENED=Y — is from the role editor's wording, not traced in src). Role actions READ, ADD, WRITE, DELETE
  (the role editor; EXPORT/IMPORT are not modelled).
  Permission entities are per type — LEAD, DEAL, CONTACT, COMPANY, DYNAMIC_<entityTypeId> — and per pipeline
  (``DEAL_C<n>``, ``DYNAMIC_<etid>_C<n>``).
- Legacy crm.deal/company/contact.* (src crm/classes/general/restservice.php, CCrm*RestProxy::inner*):
  get/update/delete check the permission on the id BEFORE looking the row up, list checks "may read any"
  then lists through the permission SQL, add checks the create permission; a refusal is
  ``RestException('Access denied.')`` = ``{"error":"","error_description":"Access denied."}``, HTTP 400 (the
  docs' error tables list "Access denied" with an empty code under "HTTP status 400").
- crm.item.* (src crm/lib/controller/item.php): get/update/delete look the item up first (``NOT_FOUND``),
  then ``canReadItem``/``canUpdateItem``/``canDeleteItem`` → ``ACCESS_DENIED``, HTTP 400 (docs
  crm-item-update.md: "400 ACCESS_DENIED Access denied"); add checks ``canAddItem`` with the category;
  list is ``getItemsFilteredByPermissions`` and its total the permission-filtered count.
- crm.timeline.comment.add (src crm/lib/controller/timeline/comment.php): needs update permission on the owner
  (``canUpdate``) → ``ACCESS_DENIED``; ``AUTHOR_ID`` given by the caller is kept, else the caller.
- crm.duplicate.findbycomm (src CCrmDuplicateRestProxy): refused ("Access denied."; the docs say 403, src's
  RestException default is 400 — the sandbox answers 400) only when the user may read none of
  leads/contacts/companies; the ids found are NOT filtered per item (the duplicate index has no
  permission join), so the sandbox returns them all — reading them afterwards is what is refused.
- Every legacy CCrmRestService method first refuses a user who can read nothing in CRM ("Access denied.").
- Admins have every permission; a webhook runs with its creating user's permissions (reference §7.7).

UNVERIFIED (guessed, kept simple): the error text of crm.item.* (English "Access denied."; a ru portal
localises it); a missing row under a restricted level answers "Access denied." on the legacy API (the
permission attributes of a non-existent id match nothing but X); crm.item.list with no READ gives an empty
page rather than an error; observers get no extra rights here; D compares the responsible's UF_DEPARTMENT
with the user's; comment get/list/delete and crm.activity.todo.add follow the comment-add rule (read for
get/list, update for delete/todo); "deal" in a sandbox role covers every pipeline unless ``deal_c<N>`` is
given (in Bitrix each pipeline is its own entry); stage-transition permissions are not modelled.

Sandbox default: a user with no role has every permission (X), so portals without roles behave as before.
"""
from __future__ import annotations

import re
from typing import Any

from .registry import B24Fault

NONE, SELF, DEPARTMENT, SUBDEPARTMENT, OPEN, ALL = "", "A", "D", "F", "O", "X"
LEVELS = {"none": NONE, "": NONE, "-": NONE, "own": SELF, "self": SELF, "a": SELF, "department": DEPARTMENT,
          "d": DEPARTMENT, "subdepartment": SUBDEPARTMENT, "subdepartments": SUBDEPARTMENT, "f": SUBDEPARTMENT,
          "open": OPEN, "o": OPEN, "all": ALL, "x": ALL}
ACTIONS = ("READ", "ADD", "WRITE", "DELETE")
_ACTION_ALIASES = {"read": "READ", "add": "ADD", "create": "ADD", "write": "WRITE", "update": "WRITE",
                   "delete": "DELETE"}
_BASE_NAMES = {1: "LEAD", 2: "DEAL", 3: "CONTACT", 4: "COMPANY"}

LEGACY_DENIED = ("", "Access denied.")
ITEM_DENIED = ("ACCESS_DENIED", "Access denied.")


def legacy_denied() -> B24Fault:
    return B24Fault(*LEGACY_DENIED, 400)


def item_denied() -> B24Fault:
    return B24Fault(*ITEM_DENIED, 400)


# --- roles ------------------------------------------------------------------------------------------------
def entity_name(etid: int) -> str:
    """Permission entity of a CRM type: DEAL, CONTACT, COMPANY, LEAD, DYNAMIC_<etid>."""
    return _BASE_NAMES.get(int(etid), f"DYNAMIC_{int(etid)}")


def _key(raw: Any) -> str:
    """``"deal"``, ``2``, ``"DEAL_C1"``, ``"dynamic_1046"``, ``1046`` → the permission entity name."""
    if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()):
        return entity_name(int(raw))
    key = str(raw).strip().upper()
    if key == "*":
        return key
    m = re.fullmatch(r"(LEAD|DEAL|CONTACT|COMPANY|DYNAMIC_\d+|\d+)(?:_C(\d+))?", key)
    if m is None:
        raise ValueError(f"unknown CRM permission entity {raw!r} (deal, lead, contact, company, dynamic_<id>, "
                         "<entityTypeId>, deal_c<N>, *)")
    base = entity_name(int(m.group(1))) if m.group(1).isdigit() else m.group(1)
    cat = m.group(2)
    if cat is None or (base == "DEAL" and int(cat) == 0):     # pipeline 0 of deals is plain DEAL
        return base
    return f"{base}_C{int(cat)}"


def _level(raw: Any) -> str:
    try:
        return LEVELS[str(raw).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown CRM permission level {raw!r} (none, own, department, subdepartment, open, "
                         "all)") from None


def normalize_role(spec: dict) -> dict[str, dict[str, str]]:
    """``{"deal": "own", "company": {"READ": "all", "WRITE": "none"}, "*": "none"}`` → {ENTITY: {ACTION: level}}.
    A plain level applies to all four actions; actions missing from a dict are none."""
    if not isinstance(spec, dict):
        raise ValueError("a CRM role is a dict {entity: level | {action: level}}")
    out: dict[str, dict[str, str]] = {}
    for raw_key, raw in spec.items():
        key = _key(raw_key)
        if isinstance(raw, dict):
            acts = {a: NONE for a in ACTIONS}
            for a, lvl in raw.items():
                name = _ACTION_ALIASES.get(str(a).lower())
                if name is None:
                    raise ValueError(f"unknown CRM action {a!r} (READ, ADD, WRITE, DELETE)")
                acts[name] = _level(lvl)
        else:
            acts = {a: _level(raw) for a in ACTIONS}
        out[key] = acts
    return out


def describe_role(role: dict[str, dict[str, str]]) -> dict:
    """The stored role in the control API's words (levels by name)."""
    names = {NONE: "none", SELF: "own", DEPARTMENT: "department", SUBDEPARTMENT: "subdepartment", OPEN: "open",
             ALL: "all"}
    return {k: {a: names[v] for a, v in acts.items()} for k, acts in role.items()}


def set_role(db, user_id: int, spec: dict | None) -> None:
    """Give ``user_id`` this role (``None`` removes it: the user has every permission again)."""
    role = normalize_role(spec) if spec is not None else None
    with db.lock:
        if role is None:
            db.crm_roles.pop(int(user_id), None)
        else:
            db.crm_roles[int(user_id)] = role
        db.crm_roles_version += 1


# --- levels ----------------------------------------------------------------------------------------------
def unrestricted(ctx) -> bool:
    """Admins, and users without a role, have every permission (the sandbox default)."""
    return ctx.is_admin or int(ctx.user_id) not in ctx.portal.db.crm_roles


def level(ctx, etid: int, action: str, category: int | None = None) -> str:
    if unrestricted(ctx):
        return ALL
    role = ctx.portal.db.crm_roles[int(ctx.user_id)]
    base = entity_name(etid)
    if category is not None:
        acts = role.get(f"{base}_C{int(category)}")
        if acts is not None:
            return acts.get(action, NONE)
    acts = role.get(base) or role.get("*")
    return acts.get(action, NONE) if acts else NONE


def _categories(ctx, etid: int) -> list[int]:
    from . import crmdefaults as cd

    return [c["id"] for c in cd.categories_of(ctx.portal.db, etid)]


def _depts(u: dict | None) -> set[int]:
    out = set()
    for d in (u or {}).get("UF_DEPARTMENT") or []:
        try:
            out.add(int(d))
        except (TypeError, ValueError):
            pass
    return out


def _subtree(db, roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in db.departments.rows.values():
        if d.get("PARENT"):
            children.setdefault(int(d["PARENT"]), []).append(int(d["ID"]))
    out, stack = set(roots), list(roots)
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in out:
                out.add(c)
                stack.append(c)
    return out


def responsible_ids(db, user_id: int, lvl: str) -> frozenset[int]:
    """Users whose items a user with level A/D/F/O reaches through the hierarchy (O adds open items)."""
    uid = int(user_id)
    if lvl == SELF:
        return frozenset([uid])
    if lvl not in (DEPARTMENT, SUBDEPARTMENT, OPEN):
        return frozenset()
    with db.lock:                                  # the users/departments dicts may grow on another thread
        mine = _depts(db.users.get(uid))
        if lvl in (SUBDEPARTMENT, OPEN):
            mine = _subtree(db, mine)
        return frozenset([uid] + [int(u["ID"]) for u in db.users.rows.values() if _depts(u) & mine])


class Grant:
    """One level compiled for one user: ``grant(row)`` — the per-row test, one set lookup."""

    __slots__ = ("lvl", "ids", "open")

    def __init__(self, db, user_id: int, lvl: str):
        self.lvl = lvl
        self.ids = responsible_ids(db, user_id, lvl) if lvl not in (NONE, ALL) else frozenset()
        self.open = lvl == OPEN

    def __call__(self, row: dict) -> bool:
        if self.lvl == ALL:
            return True
        if self.lvl == NONE:
            return False
        return row.get("ASSIGNED_BY_ID") in self.ids or (self.open and row.get("OPENED") == "Y")


def allows(ctx, etid: int, action: str, row: dict | None) -> bool:
    """May this caller do ``action`` on ``row`` (None: a row that does not exist — only X reaches it)."""
    if unrestricted(ctx):
        return True
    cat = row.get("CATEGORY_ID") if row is not None else None
    lvl = level(ctx, etid, action, cat)
    if row is None:
        return lvl == ALL
    return Grant(ctx.portal.db, ctx.user_id, lvl)(row)


class Checker:
    """``allows`` for many rows of possibly several types in one call: one Grant per (type, pipeline)."""

    def __init__(self, ctx, action: str):
        self.ctx, self.action, self.grants = ctx, action, {}
        self.free = unrestricted(ctx)

    def __call__(self, etid: int, row: dict | None) -> bool:
        if self.free:
            return True
        if row is None:
            return level(self.ctx, etid, self.action, None) == ALL
        k = (etid, row.get("CATEGORY_ID"))
        g = self.grants.get(k)
        if g is None:
            g = self.grants[k] = Grant(self.ctx.portal.db, self.ctx.user_id,
                                       level(self.ctx, etid, self.action, k[1]))
        return g(row)


def can_add(ctx, etid: int, category: int | None) -> bool:
    """Create permission: any level but none (src ``canAddItem`` → checkAddPermissions by type/category)."""
    return unrestricted(ctx) or level(ctx, etid, "ADD", category) != NONE


def can_read_any(ctx, etid: int) -> bool:
    if unrestricted(ctx):
        return True
    return any(level(ctx, etid, "READ", c) != NONE for c in [None, *_categories(ctx, etid)])


def can_read_some_crm(ctx) -> bool:
    """CCrmRestService's gate for every legacy crm.* method: the user can read something in CRM."""
    if unrestricted(ctx):
        return True
    db = ctx.portal.db
    return any(can_read_any(ctx, etid) for etid in [2, 3, 4, 1, *db.items.keys()])


def read_filter(ctx, etid: int):
    """The READ restriction of a list call, compiled once: None when the caller may read every row, else
    ``(pred, key)`` — ``pred(row)`` is a set lookup (per pipeline when the role differs by pipeline) and
    ``key`` goes into the list's cache key (the batch result cache must not hand one user's rows to another)."""
    if unrestricted(ctx):
        return None
    db = ctx.portal.db
    cats = _categories(ctx, etid)
    levels = {c: level(ctx, etid, "READ", c) for c in cats}
    default = level(ctx, etid, "READ", None)
    distinct = set(levels.values()) | {default}
    key = f"perm:{ctx.user_id}:{db.crm_roles_version}:{len(db.users)}:{db.departments.version}"
    if distinct == {ALL}:
        return None
    if len(distinct) == 1:
        grant = Grant(db, ctx.user_id, default)
        return grant, key
    grants = {c: Grant(db, ctx.user_id, lvl) for c, lvl in levels.items()}
    fallback = Grant(db, ctx.user_id, default)

    def by_pipeline(row: dict) -> bool:
        return grants.get(row.get("CATEGORY_ID"), fallback)(row)

    return by_pipeline, key
