"""Demo data of the sandbox portal: a Moscow window company with field workers (the case studies in
/work/shared/seeds: measurement and installation jobs planned on a map; sales visits to companies).

``seed(db, now)`` builds, deterministically (random.Random(42)):
- department 2 "Выездная служба" with 8 field workers, users 4..11 (users 1..3 come with every portal);
- deal pipelines 1 "Замеры", 2 "Производство", 3 "Монтаж" (stage ids ``C1:NEW``, ``C1:MEASURE_STARTED``…);
- deal user fields UF_CRM_JOB_DATE (datetime), UF_CRM_JOB_DURATION (integer, minutes), UF_CRM_WORKER
  (employee), UF_CRM_ADDRESS (string), UF_CRM_GEO (string "lat,lon"); company field UF_CRM_GEO;
- 300 companies with ADDRESS and coordinates inside the MKAD, one contact with a phone each;
- 200 current orders (deals) spread over the three pipelines, ~60 % assigned to a worker.
``seed_deals(db, n)`` adds n plain deals quickly (benchmarks: 10,000 in well under a second).
Rows are written straight into the tables (no events: nothing is installed yet when a portal is seeded).
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from . import crmdefaults as cd
from .db import COMPANY, DEAL
from .filters import MSK

WORKERS = [("Алексей", "Смирнов", "Замерщик"), ("Дмитрий", "Кузнецов", "Замерщик"),
           ("Сергей", "Попов", "Замерщик"), ("Игорь", "Васильев", "Монтажник"),
           ("Николай", "Соколов", "Монтажник"), ("Павел", "Михайлов", "Монтажник"),
           ("Артём", "Новиков", "Монтажник"), ("Владимир", "Фёдоров", "Старший монтажник")]
PIPELINES = {
    "Замеры": [("NEW", "Новая заявка", None, "#39A8EF"), ("PREPARATION", "Согласование даты", None, "#2FC6F6"),
               ("ASSIGNED", "Замер назначен", None, "#55D0E0"), ("MEASURE_STARTED", "Замер начат", None, "#FFA900"),
               ("MEASURE_DONE", "Замер выполнен", None, "#47E4C2"), ("WON", "Передано в расчёт", "S", "#7BD500"),
               ("LOSE", "Отказ", "F", "#FF5752")],
    "Производство": [("NEW", "Ожидает запуска", None, "#39A8EF"), ("IN_WORK", "В производстве", None, "#FFA900"),
                     ("READY", "Готово на складе", None, "#47E4C2"), ("WON", "Передано в монтаж", "S", "#7BD500"),
                     ("LOSE", "Отменено", "F", "#FF5752")],
    "Монтаж": [("NEW", "Новый монтаж", None, "#39A8EF"), ("ASSIGNED", "Монтаж назначен", None, "#55D0E0"),
               ("INSTALL_STARTED", "Монтаж начат", None, "#FFA900"), ("WON", "Монтаж завершён", "S", "#7BD500"),
               ("LOSE", "Отказ", "F", "#FF5752")],
}
STREETS = ["ул. Тверская", "ул. Арбат", "Ленинский пр-т", "Профсоюзная ул.", "ул. Вавилова", "Кутузовский пр-т",
           "ул. Маросейка", "Мясницкая ул.", "ул. Покровка", "Садовая-Кудринская ул.", "ул. Новый Арбат",
           "Ленинградский пр-т", "пр-т Мира", "ул. Бауманская", "Шоссе Энтузиастов", "Волгоградский пр-т",
           "Варшавское ш.", "Каширское ш.", "ул. Обручева", "Мичуринский пр-т", "ул. Куусинена", "Хорошёвское ш.",
           "ул. Народного Ополчения", "Дмитровское ш.", "Алтуфьевское ш.", "ул. Широкая", "Щёлковское ш.",
           "ул. Первомайская", "Рязанский пр-т", "ул. Люблинская", "Андроповский пр-т", "ул. Профсоюзная",
           "ул. Академика Янгеля", "Севастопольский пр-т", "ул. Удальцова", "Рублёвское ш.", "ул. Марксистская",
           "ул. Стромынка", "Открытое ш.", "ул. Земляной Вал"]
FIRST = ["Иван", "Елена", "Ольга", "Михаил", "Анна", "Татьяна", "Андрей", "Наталья", "Юрий", "Светлана",
         "Григорий", "Марина", "Константин", "Ирина", "Роман", "Виктория"]
LAST = ["Иванов", "Петров", "Сидоров", "Орлов", "Волков", "Лебедев", "Козлов", "Морозов", "Павлов", "Зайцев",
        "Егоров", "Белов", "Медведев", "Громов", "Тарасов", "Киселёв"]
ORG = ["Стройинвест", "Окна Плюс", "ТехноДом", "Уютный дом", "Альфа-Ремонт", "Мегаполис", "Северный квартал",
       "Гранит", "Вектор", "Горизонт", "Прогресс", "Лидер", "Эталон", "Столица", "Кварц", "Меридиан"]
FORMS = ["ООО", "АО", "ИП", "ЗАО"]


def _point(rng: random.Random) -> tuple[float, float]:
    """A point inside the MKAD (an ellipse around the centre spanning lat 55.57–55.91, lon 37.37–37.85)."""
    while True:
        lat, lon = rng.uniform(55.575, 55.905), rng.uniform(37.375, 37.845)
        if ((lat - 55.74) / 0.165) ** 2 + ((lon - 37.61) / 0.235) ** 2 <= 1.0:
            return round(lat, 6), round(lon, 6)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, MSK).isoformat(timespec="seconds")


def _base(now_iso: str, uid: int = 1) -> dict:
    return {"CREATED_BY_ID": uid, "MODIFY_BY_ID": uid, "DATE_CREATE": now_iso, "DATE_MODIFY": now_iso,
            "ASSIGNED_BY_ID": uid, "OPENED": "Y", "LAST_ACTIVITY_TIME": now_iso, "LAST_ACTIVITY_BY": uid}


def deal_row(db, now_iso: str, title: str, category_id: int = 0, stage_id: str | None = None,
             opportunity: float = 0.0, **extra) -> dict:
    """A complete deal row (the defaults crmcore.create would set) for direct inserts."""
    stage_id = stage_id or cd.stage_prefix(DEAL, category_id) + "NEW"
    sem = cd.semantic_id(db, DEAL, category_id, stage_id)
    row = _base(now_iso, extra.pop("ASSIGNED_BY_ID", 1))
    row.update(TITLE=title, TYPE_ID="SALE", CATEGORY_ID=category_id, STAGE_ID=stage_id, PREVIOUS_STAGE_ID=None,
               STAGE_SEMANTIC_ID=sem, IS_NEW="Y", IS_RECURRING="N", IS_RETURN_CUSTOMER="N",
               IS_REPEATED_APPROACH="N", PROBABILITY=None, CURRENCY_ID="RUB", OPPORTUNITY=float(opportunity),
               IS_MANUAL_OPPORTUNITY="N", TAX_VALUE=0.0, CONTACT_IDS=[], CONTACT_ID=None, COMPANY_ID=None,
               BEGINDATE=now_iso[:10], CLOSEDATE=None, CLOSED="Y" if sem in ("S", "F") else "N",
               MOVED_BY_ID=1, MOVED_TIME=now_iso, OBSERVERS=[], SOURCE_ID=None)
    row.update(extra)
    if row["CONTACT_ID"] and not row["CONTACT_IDS"]:
        row["CONTACT_IDS"] = [row["CONTACT_ID"]]
    return row


def seed_deals(db, n: int, now: float | None = None) -> list[int]:
    """n deals in the default pipeline, ids ascending — the 10,000-row export benchmark."""
    now_iso = _iso(now if now is not None else time.time())
    rng = random.Random(7)
    stages = [s["STATUS_ID"] for s in db.stages("DEAL_STAGE")]
    sems = {s["STATUS_ID"]: s["SEMANTICS"] or "P" for s in db.stages("DEAL_STAGE")}
    proto = deal_row(db, now_iso, "")
    ids = []
    with db.lock:
        table = db.deals
        for i in range(n):
            row = dict(proto)
            st = stages[i % len(stages)]
            row.update(TITLE=f"Сделка {table.next_id}", STAGE_ID=st, STAGE_SEMANTIC_ID=sems[st],
                       CLOSED="Y" if sems[st] != "P" else "N", OPPORTUNITY=float(rng.randrange(1000, 500000, 100)),
                       CONTACT_IDS=[], OBSERVERS=[])
            ids.append(table.insert(row))
    return ids


def seed(db, now: float | None = None) -> dict:
    """Fill an empty PortalDB with the window company. Returns ids useful to tests and the demo script."""
    now = now if now is not None else time.time()
    now_iso = _iso(now)
    rng = random.Random(42)
    with db.lock:
        dep = db.departments.insert({"NAME": "Выездная служба", "SORT": 600, "PARENT": 1, "UF_HEAD": 2})
        workers = [db.add_user(fn, ln, f"worker{i + 1}@okna.example.ru", department=dep, position=pos,
                               phone=f"+7 916 {100 + i:03d}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}")
                   for i, (fn, ln, pos) in enumerate(WORKERS)]
        measurers, installers = workers[:3], workers[3:]
        cats = {name: cd.add_category(db, DEAL, name, sort=(i + 1) * 100, stages=stages)["id"]
                for i, (name, stages) in enumerate(PIPELINES.items())}
        db.add_userfield("CRM_DEAL", "UF_CRM_JOB_DATE", "datetime", label="Дата и время выезда", sort=100)
        db.add_userfield("CRM_DEAL", "UF_CRM_JOB_DURATION", "integer", label="Длительность, мин", sort=110)
        db.add_userfield("CRM_DEAL", "UF_CRM_WORKER", "employee", label="Выездной сотрудник", sort=120)
        db.add_userfield("CRM_DEAL", "UF_CRM_ADDRESS", "string", label="Адрес объекта", sort=130)
        db.add_userfield("CRM_DEAL", "UF_CRM_GEO", "string", label="Координаты (широта,долгота)", sort=140)
        db.add_userfield("CRM_COMPANY", "UF_CRM_GEO", "string", label="Координаты (широта,долгота)", sort=100)

        companies = []
        for i in range(300):
            lat, lon = _point(rng)
            addr = f"{rng.choice(STREETS)}, д. {rng.randrange(1, 120)}"
            row = _base(now_iso, rng.choice([1, 2]))
            row.update(TITLE=f"{rng.choice(FORMS)} «{rng.choice(ORG)}{'' if i < 16 else ' ' + str(i)}»",
                       COMPANY_TYPE="CUSTOMER", CURRENCY_ID="RUB", IS_MY_COMPANY="N", REVENUE=None,
                       ADDRESS=addr, ADDRESS_CITY="Москва", ADDRESS_COUNTRY="Россия", ADDRESS_COUNTRY_CODE="RU",
                       ADDRESS_POSTAL_CODE=f"1{rng.randrange(10000, 29999)}", UF_CRM_GEO=f"{lat},{lon}")
            db.set_multifields(row, {"PHONE": [{"VALUE": _phone(rng), "VALUE_TYPE": "WORK"}]})
            cid = db.companies.insert(row)
            crow = _base(now_iso, row["ASSIGNED_BY_ID"])
            crow.update(NAME=rng.choice(FIRST), LAST_NAME=rng.choice(LAST), SECOND_NAME="", TYPE_ID="CLIENT",
                        EXPORT="Y", COMPANY_ID=cid, COMPANY_IDS=[cid], ADDRESS=addr, ADDRESS_CITY="Москва",
                        POST="Контактное лицо")
            db.set_multifields(crow, {"PHONE": [{"VALUE": _phone(rng), "VALUE_TYPE": "MOBILE"}]})
            contact_id = db.contacts.insert(crow)
            companies.append((cid, contact_id, addr, lat, lon))

        plan = [("Замеры", 90, measurers, 60), ("Производство", 40, [], 0), ("Монтаж", 70, installers, 180)]
        day0 = datetime.fromtimestamp(now, MSK).replace(hour=0, minute=0, second=0, microsecond=0)
        deal_ids = []
        for name, count, team, minutes in plan:
            cat = cats[name]
            stage_ids = [cd.stage_prefix(DEAL, cat) + s[0] for s in PIPELINES[name] if s[2] is None]
            for _ in range(count):
                cid, contact_id, addr, lat, lon = rng.choice(companies)
                stage = rng.choice(stage_ids)
                extra = {"COMPANY_ID": cid, "CONTACT_ID": contact_id, "UF_CRM_ADDRESS": f"Москва, {addr}",
                         "UF_CRM_GEO": f"{lat},{lon}", "ASSIGNED_BY_ID": 2, "UF_CRM_WORKER": None,
                         "UF_CRM_JOB_DATE": None, "UF_CRM_JOB_DURATION": None}
                if team:
                    start = day0 + timedelta(days=rng.randrange(0, 14), hours=rng.randrange(9, 18),
                                             minutes=rng.choice([0, 30]))
                    extra.update(UF_CRM_JOB_DATE=start.isoformat(timespec="seconds"),
                                 UF_CRM_JOB_DURATION=rng.choice([minutes, minutes + 30, minutes * 2]))
                    if rng.random() < 0.6:
                        extra["UF_CRM_WORKER"] = rng.choice(team)
                kind = {"Замеры": "Замер", "Производство": "Заказ", "Монтаж": "Монтаж"}[name]
                row = deal_row(db, now_iso, f"{kind}: {addr}", cat, stage,
                               float(rng.randrange(15000, 250000, 500)), **extra)
                deal_ids.append(db.deals.insert(row))
    return {"workers": workers, "department": dep, "categories": cats, "deals": deal_ids,
            "companies": [c[0] for c in companies]}


def _phone(rng: random.Random) -> str:
    return f"+7 9{rng.randrange(10, 99)} {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}"
