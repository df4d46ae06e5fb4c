"""PortalDB: the sandbox portal's in-memory tables.

One re-entrant lock guards everything (handlers run on werkzeug's threads). CRM rows are stored once,
with UPPER_CASE keys and typed Python values (int ids, float money, ISO date strings), so the legacy
API (crm.deal.*: numbers as strings) and the controller API (crm.item.*: camelCase, ints) are two
renderings of the same row — exactly like the portal, where both read b_crm_deal
(reference §5.4, §5.6).

Tables are ``Table`` objects: ``rows`` is a dict id -> row kept in ascending id order (ids only grow),
which gives the huge-data export (``order ID ASC, >ID, start=-1``, reference §7.5) a lazy fast path.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

# entityTypeId of the built-in CRM types (reference §5.1)
LEAD, DEAL, CONTACT, COMPANY, QUOTE, SMART_INVOICE = 1, 2, 3, 4, 7, 31
TYPE_NAMES = {1: "LEAD", 2: "DEAL", 3: "CONTACT", 4: "COMPANY", 5: "INVOICE", 7: "QUOTE", 8: "REQUISITE",
              14: "ORDER", 31: "SMART_INVOICE"}
TYPE_ABBR = {1: "L", 2: "D", 3: "C", 4: "CO", 5: "I", 7: "Q", 8: "RQ", 14: "O", 31: "SI"}


class Table:
    """An id-keyed table with its own counter (b_crm_* tables are auto-increment)."""

    def __init__(self, name: str, start_id: int = 1):
        self.name = name
        self.rows: dict[int, dict] = {}
        self.next_id = start_id
        self.version = 0                       # bumped by every insert/delete (the id index follows it)
        self.data_version = 0                  # bumped by every write, in-place updates included (touch)
        self._index: tuple | None = None
        self._dates: dict[str, tuple] = {}

    def insert(self, row: dict, id_key: str = "ID") -> int:
        rid = self.next_id
        self.next_id += 1
        row[id_key] = rid
        self.rows[rid] = row
        self.version += 1
        self.data_version += 1
        return rid

    def get(self, rid) -> dict | None:
        try:
            return self.rows.get(int(rid))
        except (TypeError, ValueError):
            return None

    def delete(self, rid) -> dict | None:
        try:
            row = self.rows.pop(int(rid), None)
        except (TypeError, ValueError):
            return None
        if row is not None:
            self.version += 1
            self.data_version += 1
        return row

    def touch(self) -> None:
        """A row was changed in place (crmcore.update): cached list results of this table are stale."""
        self.data_version += 1

    def id_index(self) -> tuple[list[int], list[dict]] | None:
        """(ids, rows) in storage order, for bisecting a ``>ID`` bound; None unless the stored ``ID``s are
        strictly ascending ints (then callers scan like before). Rebuilt after any insert/delete."""
        stamp = (self.version, len(self.rows))
        if self._index is not None and self._index[0] == stamp:
            return self._index[1]
        rows = list(self.rows.values())
        ids = [r.get("ID") for r in rows]
        ok = all(type(i) is int for i in ids) and all(a < b for a, b in zip(ids, ids[1:])) \
            and (not ids or (ids[0] > -2 ** 53 and ids[-1] < 2 ** 53))
        index = (ids, rows) if ok else None
        self._index = (stamp, index)
        return index

    def date_index(self, field: str, parse) -> tuple[list, list[dict]]:
        """(keys, rows) sorted by the parsed ``field`` (rows without a value left out): the secondary index
        a portal keeps on DATE_MODIFY. Rebuilt after any write (``data_version``)."""
        cached = self._dates.get(field)
        if cached is not None and cached[0] == self.data_version:
            return cached[1], cached[2]
        pairs = [(parse(r.get(field)), r) for r in self.rows.values()]
        pairs = sorted(((k.timestamp(), r) for k, r in pairs if k is not None), key=lambda p: p[0])
        keys, rows = [k for k, _ in pairs], [r for _, r in pairs]
        self._dates[field] = (self.data_version, keys, rows)
        return keys, rows

    def __iter__(self) -> Iterator[dict]:
        return iter(list(self.rows.values()))

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class PortalDB:
    """All portal data. Public attributes are the tables; helpers below keep invariants in one place."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    users: Table = field(default_factory=lambda: Table("user"))
    departments: Table = field(default_factory=lambda: Table("department"))
    deals: Table = field(default_factory=lambda: Table("deal"))
    companies: Table = field(default_factory=lambda: Table("company"))
    contacts: Table = field(default_factory=lambda: Table("contact"))
    items: dict = field(default_factory=dict)            # entityTypeId -> Table (SPA items)
    types: Table = field(default_factory=lambda: Table("crm_type"))
    categories: Table = field(default_factory=lambda: Table("crm_category"))
    statuses: Table = field(default_factory=lambda: Table("crm_status"))
    userfields: Table = field(default_factory=lambda: Table("user_field"))
    multifields: Table = field(default_factory=lambda: Table("crm_field_multi"))
    comments: Table = field(default_factory=lambda: Table("timeline_comment"))
    activities: Table = field(default_factory=lambda: Table("crm_activity"))
    calendar_events: Table = field(default_factory=lambda: Table("calendar_event"))
    calendar_sections: Table = field(default_factory=lambda: Table("calendar_section"))
    tasks: Table = field(default_factory=lambda: Table("task"))
    task_elapsed: Table = field(default_factory=lambda: Table("task_elapsed"))            # task.elapseditem.*
    openline_chats: Table = field(default_factory=lambda: Table("imopenlines_chat"))      # imopenlines.crm.*
    notifications: Table = field(default_factory=lambda: Table("im_notify"))
    product_sections: Table = field(default_factory=lambda: Table("iblock_section"))    # crm.productsection.*
    products: Table = field(default_factory=lambda: Table("iblock_element"))            # crm.product.*
    product_rows: Table = field(default_factory=lambda: Table("crm_product_row"))       # crm.item.productrow.*
    catalog_id: int = 25          # the CRM product catalog's iblock id (crm.catalog.list)
    placements: dict = field(default_factory=dict)        # binding id -> {id, client_id, placement, handler, …}
    robots: dict = field(default_factory=dict)            # (client_id, CODE) -> robot/activity dict
    robot_calls: list = field(default_factory=list)       # RobotCall records (robots.py)
    bizproc_events: list = field(default_factory=list)    # bizproc.event.send answers, in arrival order
    crm_roles: dict = field(default_factory=dict)         # user id -> {ENTITY: {ACTION: level}} (perms.py)
    crm_roles_version: int = 0
    # b_crm_sequences "dynamic_type_id": the last smart-process entityTypeId handed out (1030 on a new portal,
    # so the first type gets 1032); None = an old portal, 128..191 first (crmdefaults.next_entity_type_id)
    dynamic_type_seq: int | None = 1030

    def __post_init__(self):
        from . import crmdefaults

        crmdefaults.install_defaults(self)

    # --- tables by CRM type -------------------------------------------------------------------------
    def table_for(self, entity_type_id: int) -> Table | None:
        """Deals/contacts/companies live in their own tables; SPA items in one table per type."""
        entity_type_id = int(entity_type_id)
        if entity_type_id == DEAL:
            return self.deals
        if entity_type_id == COMPANY:
            return self.companies
        if entity_type_id == CONTACT:
            return self.contacts
        return self.items.get(entity_type_id)

    def type_by_entity_type_id(self, entity_type_id) -> dict | None:
        try:
            etid = int(entity_type_id)
        except (TypeError, ValueError):
            return None
        return next((t for t in self.types.rows.values() if t["entityTypeId"] == etid), None)

    # --- apps ---------------------------------------------------------------------------------------
    def add_placement(self, row: dict) -> dict:
        with self.lock:
            row["id"] = max(self.placements, default=0) + 1
            self.placements[row["id"]] = row
        return row

    def placements_of(self, client_id: str) -> list[dict]:
        return [p for p in self.placements.values() if p["client_id"] == client_id]

    def remove_app(self, client_id: str) -> None:
        """Uninstall: the portal drops the app's placements and robots/activities (reference §1.4)."""
        with self.lock:
            for pid in [i for i, p in self.placements.items() if p["client_id"] == client_id]:
                del self.placements[pid]
            for key in [k for k in self.robots if k[0] == client_id]:
                del self.robots[key]

    # --- users --------------------------------------------------------------------------------------
    def is_admin(self, user_id) -> bool:
        u = self.users.get(user_id) if user_id else None
        return bool(u and u.get("IS_ADMIN"))

    def add_user(self, name: str, last_name: str, email: str, *, admin: bool = False, department: int = 1,
                 position: str = "", phone: str = "", gender: str = "M") -> int:
        with self.lock:
            return self.users.insert({
                "ACTIVE": True, "NAME": name, "LAST_NAME": last_name, "SECOND_NAME": "", "EMAIL": email,
                "LAST_LOGIN": None, "DATE_REGISTER": "2025-01-15T10:00:00+03:00", "IS_ONLINE": "N",
                "TIME_ZONE": "Europe/Moscow", "TIME_ZONE_OFFSET": "10800", "TIMESTAMP_X": None,
                "PERSONAL_GENDER": gender, "PERSONAL_MOBILE": phone, "PERSONAL_CITY": "Москва",
                "WORK_PHONE": "", "WORK_POSITION": position, "UF_DEPARTMENT": [department],
                "USER_TYPE": "employee", "IS_ADMIN": admin,
            })

    # --- CRM statuses -------------------------------------------------------------------------------
    def stages(self, entity_id: str) -> list[dict]:
        """Rows of one status list (``DEAL_STAGE_3``, ``DYNAMIC_128_STAGE_5``…) ordered by SORT."""
        return sorted((s for s in self.statuses.rows.values() if s["ENTITY_ID"] == entity_id),
                      key=lambda s: (s["SORT"], s["ID"]))

    def stage(self, status_id: str, entity_id: str | None = None) -> dict | None:
        for s in self.statuses.rows.values():
            if s["STATUS_ID"] == status_id and (entity_id is None or s["ENTITY_ID"] == entity_id):
                return s
        return None

    def add_status(self, entity_id: str, status_id: str, name: str, sort: int, semantics: str | None = None,
                   color: str = "#39A8EF", category_id: int | None = None, system: bool = False) -> dict:
        row = {"ENTITY_ID": entity_id, "STATUS_ID": status_id, "NAME": name, "NAME_INIT": name if system else "",
               "SORT": sort, "SYSTEM": "Y" if system else "N", "CATEGORY_ID": category_id, "COLOR": color,
               "SEMANTICS": semantics}
        with self.lock:
            self.statuses.insert(row)
        return row

    # --- user fields --------------------------------------------------------------------------------
    def userfields_of(self, entity_id: str) -> list[dict]:
        """UF definitions of ``CRM_DEAL``, ``CRM_COMPANY``, ``CRM_<type.id>``… ordered by SORT, ID."""
        return sorted((f for f in self.userfields.rows.values() if f["ENTITY_ID"] == entity_id),
                      key=lambda f: (f["SORT"], f["ID"]))

    def add_userfield(self, entity_id: str, field_name: str, user_type_id: str = "string", *,
                      label: str | dict | None = None, multiple: bool = False, mandatory: bool = False,
                      settings: dict | None = None, sort: int = 100, xml_id: str = "",
                      enum: list | None = None) -> dict:
        labels = label if isinstance(label, dict) else {"ru": label or field_name, "en": label or field_name}
        row = {"ENTITY_ID": entity_id, "FIELD_NAME": field_name, "USER_TYPE_ID": user_type_id,
               "XML_ID": xml_id, "SORT": int(sort), "MULTIPLE": "Y" if multiple else "N",
               "MANDATORY": "Y" if mandatory else "N", "SHOW_FILTER": "N", "SHOW_IN_LIST": "Y",
               "EDIT_IN_LIST": "Y", "IS_SEARCHABLE": "N", "SETTINGS": dict(settings or {}),
               "EDIT_FORM_LABEL": dict(labels), "LIST_COLUMN_LABEL": dict(labels),
               "LIST_FILTER_LABEL": dict(labels), "ERROR_MESSAGE": {}, "HELP_MESSAGE": {}, "LIST": []}
        with self.lock:
            self.userfields.insert(row)
            for i, e in enumerate(enum or []):
                value = e if isinstance(e, str) else e.get("VALUE", "")
                row["LIST"].append({"ID": row["ID"] * 100 + i + 1, "VALUE": value, "SORT": (i + 1) * 10,
                                    "DEF": "N", "XML_ID": f"{field_name}_{i + 1}"})
        return row

    # --- multi fields (PHONE/EMAIL/WEB/IM) ----------------------------------------------------------
    def set_multifields(self, row: dict, values: dict) -> None:
        """Legacy ``PHONE: [{VALUE, VALUE_TYPE}]`` lists: ids are global like b_crm_field_multi."""
        for type_id, items in values.items():
            current = {str(m["ID"]): m for m in row.get(type_id) or []}
            for it in items or []:
                if not isinstance(it, dict):
                    it = {"VALUE": str(it)}
                mid = str(it.get("ID") or "")
                if mid and mid in current:
                    if it.get("DELETE") in ("Y", True):
                        current.pop(mid)
                    else:
                        current[mid].update({k: str(v) for k, v in it.items() if k in ("VALUE", "VALUE_TYPE")})
                    continue
                if not it.get("VALUE"):
                    continue
                new_id = self.multifields.next_id
                self.multifields.next_id += 1
                current[str(new_id)] = {"ID": str(new_id), "VALUE_TYPE": str(it.get("VALUE_TYPE") or "WORK"),
                                        "VALUE": str(it["VALUE"]), "TYPE_ID": type_id}
            row[type_id] = list(current.values())


def ids_of(value: Any) -> list[int]:
    """``[1, "2"]`` / ``"3"`` / ``None`` → ints (form posts give strings)."""
    if value in (None, "", []):
        return []
    if not isinstance(value, (list, tuple)):
        value = [value]
    out = []
    for v in value:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out
