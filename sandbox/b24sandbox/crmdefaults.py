"""What a fresh portal already has, and the CRM structure operations shared by REST methods and the
demo seed: pipelines (categories) with their stage lists, SPA types with their next free
entityTypeId (reference §5.1–5.3; src crm/lib/Service/Scenario/DefaultStages.php,
crm/classes/general/crm_status.php).
"""
from __future__ import annotations

from .db import DEAL, TYPE_NAMES

DEAL_STAGES = [  # (status id, name, semantics, colour) of a deal pipeline
    ("NEW", "Новая", None, "#39A8EF"), ("PREPARATION", "Подготовка документов", None, "#2FC6F6"),
    ("PREPAYMENT_INVOICE", "Счёт на предоплату", None, "#55D0E0"), ("EXECUTING", "В работе", None, "#47E4C2"),
    ("FINAL_INVOICE", "Финальный счёт", None, "#FFA900"), ("WON", "Сделка успешна", "S", "#7BD500"),
    ("LOSE", "Сделка провалена", "F", "#FF5752"), ("APOLOGY", "Анализ причины провала", "F", "#FF5752"),
]
SPA_STAGES = [("NEW", "Начало", None, "#22B9FF"), ("PREPARATION", "Подготовка", None, "#FFA900"),
              ("CLIENT", "Согласование с клиентом", None, "#9DCF00"), ("SUCCESS", "Успех", "S", "#7BD500"),
              ("FAIL", "Провал", "F", "#FF5752")]
SIMPLE_LISTS = {
    "STATUS": [("NEW", "Не обработан", None), ("IN_PROCESS", "В работе", None), ("PROCESSED", "Обработан", None),
               ("CONVERTED", "Качественный лид", "S"), ("JUNK", "Некачественный лид", "F")],
    "SOURCE": [("CALL", "Звонок", None), ("EMAIL", "Электронная почта", None), ("WEB", "Веб-сайт", None),
               ("ADVERTISING", "Реклама", None), ("PARTNER", "Существующий клиент", None),
               ("RECOMMENDATION", "По рекомендации", None), ("OTHER", "Другое", None)],
    "DEAL_TYPE": [("SALE", "Продажа", None), ("COMPLEX", "Комплексная продажа", None),
                  ("GOODS", "Продажа товара", None), ("SERVICES", "Продажа услуги", None),
                  ("SERVICE", "Сервисное обслуживание", None)],
    "COMPANY_TYPE": [("CUSTOMER", "Клиент", None), ("SUPPLIER", "Поставщик", None),
                     ("COMPETITOR", "Конкурент", None), ("PARTNER", "Партнёр", None), ("OTHER", "Другое", None)],
    "CONTACT_TYPE": [("CLIENT", "Клиенты", None), ("SUPPLIER", "Поставщики", None),
                     ("PARTNER", "Партнёры", None), ("OTHER", "Другое", None)],
    "INDUSTRY": [("IT", "Информационные технологии", None), ("MANUFACTURING", "Производство", None),
                 ("OTHER", "Другое", None)],
}
ISO_CREATED = "2025-01-15T10:00:00+03:00"


def install_defaults(db) -> None:
    """Admin user 1 and two colleagues, department 1, the deal pipeline 0 and the reference lists."""
    db.departments.insert({"NAME": "Компания", "SORT": 500, "PARENT": None, "UF_HEAD": 1})
    db.add_user("Андрей", "Администраторов", "admin@example.ru", admin=True, position="Директор")
    db.add_user("Мария", "Менеджерова", "manager@example.ru", position="Менеджер", gender="F")
    db.add_user("Олег", "Сотрудников", "employee@example.ru", position="Специалист")
    for entity_id, rows in SIMPLE_LISTS.items():
        for i, (sid, name, sem) in enumerate(rows):
            db.add_status(entity_id, sid, name, (i + 1) * 10, sem, system=True)
    db.categories.rows[0] = {"ID": 0, "id": 0, "name": "Общая", "sort": 100, "entityTypeId": DEAL,
                             "isDefault": "Y", "originId": "", "originatorId": ""}
    _add_stages(db, DEAL, 0)


def stage_entity_id(entity_type_id: int, category_id: int) -> str:
    """ENTITY_ID of a pipeline's stage list (reference §5.3)."""
    if int(entity_type_id) == DEAL:
        return "DEAL_STAGE" if int(category_id) == 0 else f"DEAL_STAGE_{int(category_id)}"
    return f"DYNAMIC_{int(entity_type_id)}_STAGE_{int(category_id)}"


def stage_prefix(entity_type_id: int, category_id: int) -> str:
    if int(entity_type_id) == DEAL:
        return "" if int(category_id) == 0 else f"C{int(category_id)}:"
    return f"DT{int(entity_type_id)}_{int(category_id)}:"


def parse_stage_entity(entity_id: str) -> tuple[int, int] | None:
    """``DEAL_STAGE_3`` → (2, 3); ``DYNAMIC_128_STAGE_5`` → (128, 5); other lists → None."""
    if entity_id == "DEAL_STAGE":
        return DEAL, 0
    if entity_id.startswith("DEAL_STAGE_") and entity_id[11:].isdigit():
        return DEAL, int(entity_id[11:])
    parts = entity_id.split("_")
    if len(parts) == 4 and parts[0] == "DYNAMIC" and parts[2] == "STAGE" and parts[1].isdigit() and parts[3].isdigit():
        return int(parts[1]), int(parts[3])
    return None


def _add_stages(db, entity_type_id: int, category_id: int, stages=None) -> None:
    stages = stages or (DEAL_STAGES if entity_type_id == DEAL else SPA_STAGES)
    entity_id = stage_entity_id(entity_type_id, category_id)
    prefix = stage_prefix(entity_type_id, category_id)
    for i, st in enumerate(stages):
        sid, name, sem = st[0], st[1], st[2]
        color = st[3] if len(st) > 3 else "#39A8EF"
        db.add_status(entity_id, prefix + sid, name, (i + 1) * 10, sem, color=color,
                      category_id=category_id, system=sid in ("NEW", "WON", "LOSE", "SUCCESS", "FAIL"))


def add_category(db, entity_type_id: int, name: str, sort: int = 500, is_default: bool = False,
                 stages=None) -> dict:
    """A pipeline and its stage list. Category ids are one counter for all types, like b_crm_item_category.

    ``stages`` = [(STATUS_ID suffix, NAME, SEMANTICS None|'S'|'F'[, COLOR])]; default = the type's set.
    """
    with db.lock:
        row = {"name": name, "sort": int(sort), "entityTypeId": int(entity_type_id),
               "isDefault": "Y" if is_default else "N", "originId": "", "originatorId": ""}
        cid = db.categories.insert(row)
        row["id"] = cid
        _add_stages(db, int(entity_type_id), cid, stages)
    return row


def categories_of(db, entity_type_id: int) -> list[dict]:
    return sorted((c for c in db.categories.rows.values() if c["entityTypeId"] == int(entity_type_id)),
                  key=lambda c: (c["sort"], c["id"]))


def default_category(db, entity_type_id: int) -> dict | None:
    cats = categories_of(db, entity_type_id)
    return next((c for c in cats if c["isDefault"] == "Y"), cats[0] if cats else None)


def semantic_id(db, entity_type_id: int, category_id: int, stage_id: str | None) -> str:
    """``P``/``S``/``F`` of a stage (reference §5.3: stageSemanticId)."""
    if not stage_id:
        return "P"
    st = db.stage(stage_id, stage_entity_id(entity_type_id, category_id or 0))
    return (st or {}).get("SEMANTICS") or "P"


def next_entity_type_id(db) -> int:
    """The entityTypeId crm.type.add gives a type that names none (docs crm-type-add.md: an even id ≥ 1030
    or 128..192). Current portals: src TypeTable::getNextAvailableEntityTypeId →
    SequenceService::nextDynamicTypeId, the b_crm_sequences row "dynamic_type_id" (1030 at install,
    crm/install/index.php) + 2 per new type, never reused — so 1032, 1034, …. A portal from before that
    sequence (``db.dynamic_type_seq = None``) hands out the first free id of 128..191 first. The sandbox
    steps over an id a client already took by hand, where a portal would fail on the unique key."""
    used = {t["entityTypeId"] for t in db.types.rows.values()}
    if db.dynamic_type_seq is None:
        free = next((etid for etid in range(128, 192) if etid not in used), None)
        if free is not None:
            return free
        etid = 1030
        while etid in used:
            etid += 2
        return etid
    db.dynamic_type_seq += 2
    while db.dynamic_type_seq in used:
        db.dynamic_type_seq += 2
    return db.dynamic_type_seq


def valid_dynamic_id(etid: int) -> bool:
    return 128 <= etid < 192 or (etid >= 1030 and etid % 2 == 0)


def type_name(db, entity_type_id: int) -> str | None:
    etid = int(entity_type_id)
    if etid in TYPE_NAMES:
        return TYPE_NAMES[etid]
    return f"DYNAMIC_{etid}" if db.type_by_entity_type_id(etid) else None


def uf_entity_id(db, entity_type_id: int) -> str | None:
    """UF ``ENTITY_ID`` of a CRM type: ``CRM_DEAL`` or ``CRM_<type.id>`` for SPAs (reference §5.5)."""
    etid = int(entity_type_id)
    if etid in TYPE_NAMES:
        return f"CRM_{TYPE_NAMES[etid]}"
    t = db.type_by_entity_type_id(etid)
    return f"CRM_{t['id']}" if t else None
