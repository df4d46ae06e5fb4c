"""Demo data of the sandbox portal: a Moscow window company with field workers (the case studies in
/work/shared/seeds: measurement and installation jobs planned on a map; sales visits to companies).

``seed(db, now)`` builds, deterministically (random.Random(42)):
- department 2 "Выездная служба" with 8 field workers, users 4..11 (users 1..3 come with every portal);
- deal pipelines 1 "Замеры", 2 "Производство", 3 "Монтаж" and deal/company user fields exactly as app.json
  declares them (stage ids ``C1:NEW``, ``C1:SCHEDULED``, ``C1:JOB_STARTED``…; fields ``UF_CRM_B24APP_JOB_AT``,
  ``UF_CRM_B24APP_WORKER``, ``UF_CRM_B24APP_COORDINATES``…), so installing the app adopts them and the orders
  map shows the demo jobs at once (mirrored from the app's manifest, never typed twice: the app hands its
  shape in as a ``DemoApp`` — ``SandboxCloud(demo_app=...)``; b24app's is install.demo_shape.demo_app(),
  so the sandbox imports nothing of the product for it);
- 300 companies with ADDRESS and coordinates inside the MKAD, one contact with a phone each;
- 200 current orders (deals): 90 measurements and 70 installations (the ~160 field jobs of the map; a job in
  the "new" stage waits for a worker, later stages have one) and 40 production orders;
- one field worker with a CRM role (``FIELD_WORKER``, user 4, the first measurer): responsible for his own
  measurement jobs and allowed to see and change only the deals he is responsible for (``FIELD_WORKER_ROLE``:
  deals "own", companies and contacts readable by all, smart-process items "own"), so a page acting as him
  shows the portal's permissions (perms.py). Everyone else keeps the sandbox default (every permission).
``seed_deals(db, n)`` adds n plain deals quickly (benchmarks: 10,000 in well under a second).
Rows are written straight into the tables (no events: nothing is installed yet when a portal is seeded).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import crmdefaults as cd
from . import perms
from .db import DEAL
from .filters import MSK

WORKERS = [("Алексей", "Смирнов", "Замерщик"), ("Дмитрий", "Кузнецов", "Замерщик"),
           ("Сергей", "Попов", "Замерщик"), ("Игорь", "Васильев", "Монтажник"),
           ("Николай", "Соколов", "Монтажник"), ("Павел", "Михайлов", "Монтажник"),
           ("Артём", "Новиков", "Монтажник"), ("Владимир", "Фёдоров", "Старший монтажник")]
FIELD_WORKER = 4                     # users 1..3 come with every portal; workers are 4..11
FIELD_WORKER_ROLE = {"deal": "own", "company": {"READ": "all", "WRITE": "own", "ADD": "own"},
                     "contact": {"READ": "all", "WRITE": "own", "ADD": "own"}, "*": "own"}


@dataclass(frozen=True)
class DemoApp:
    """The app the demo company is shaped for, in portal terms — handed in by the app, so the data stays
    whatever its manifest says and the emulator depends on no app. ``pipelines``: {ru name: [(code, ru name,
    semantics None|"S"|"F", colour)]} ("Замеры", "Производство", "Монтаж"); ``fields``: {"CRM_DEAL": [(UF
    name, type, ru label)], "CRM_COMPANY": [...]}; ``uf``: the app's field key → UF name (``job_at`` …)."""

    pipelines: dict
    fields: dict
    uf: dict

    @classmethod
    def of(cls, value) -> "DemoApp":
        """A DemoApp, or the plain mapping an app builds without importing the sandbox."""
        if value is None:
            raise ValueError("seed='demo' needs the app's shape: SandboxCloud(demo_app=...) "
                             "(b24app: install.demo_shape.demo_app())")
        return value if isinstance(value, cls) else cls(**value)


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


def seed(db, now: float | None = None, app=None) -> dict:
    """Fill an empty PortalDB with the window company shaped for ``app`` (a DemoApp or its mapping).
    Returns ids useful to tests and the demo script."""
    app = DemoApp.of(app)
    now = now if now is not None else time.time()
    now_iso = _iso(now)
    rng = random.Random(42)
    with db.lock:
        dep = db.departments.insert({"NAME": "Выездная служба", "SORT": 600, "PARENT": 1, "UF_HEAD": 2})
        workers = [db.add_user(fn, ln, f"worker{i + 1}@okna.example.ru", department=dep, position=pos,
                               phone=f"+7 916 {100 + i:03d}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}")
                   for i, (fn, ln, pos) in enumerate(WORKERS)]
        measurers, installers = workers[:3], workers[3:]
        pipelines, fields = app.pipelines, app.fields
        cats = {name: cd.add_category(db, DEAL, name, sort=(i + 1) * 100, stages=stages)["id"]
                for i, (name, stages) in enumerate(pipelines.items())}
        for entity, rows in fields.items():
            for k, (name, utype, label) in enumerate(rows):
                db.add_userfield(entity, name, utype, label=label, sort=100 + 10 * k)
        F = {k: app.uf[k] for k in ("job_at", "job_duration", "worker", "job_address", "coordinates")}

        companies = []
        for i in range(300):
            lat, lon = _point(rng)
            addr = f"{rng.choice(STREETS)}, д. {rng.randrange(1, 120)}"
            row = _base(now_iso, rng.choice([1, 2]))
            row.update(TITLE=f"{rng.choice(FORMS)} «{rng.choice(ORG)}{'' if i < 16 else ' ' + str(i)}»",
                       COMPANY_TYPE="CUSTOMER", CURRENCY_ID="RUB", IS_MY_COMPANY="N", REVENUE=None,
                       ADDRESS=addr, ADDRESS_CITY="Москва", ADDRESS_COUNTRY="Россия", ADDRESS_COUNTRY_CODE="RU",
                       ADDRESS_POSTAL_CODE=f"1{rng.randrange(10000, 29999)}", **{F["coordinates"]: f"{lat},{lon}"})
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
            codes = [s[0] for s in pipelines[name] if s[2] is None]
            for _ in range(count):
                cid, contact_id, addr, lat, lon = rng.choice(companies)
                code = rng.choice(codes)
                extra = {"COMPANY_ID": cid, "CONTACT_ID": contact_id, "ASSIGNED_BY_ID": 2,
                         F["job_address"]: f"Москва, {addr}", F["coordinates"]: f"{lat},{lon}",
                         F["worker"]: None, F["job_at"]: None, F["job_duration"]: None}
                if team:
                    start = day0 + timedelta(days=rng.randrange(0, 14), hours=rng.randrange(9, 17),
                                             minutes=rng.choice([0, 30]))
                    if code == "JOB_STARTED":
                        start = day0 + timedelta(hours=rng.randrange(9, 16))
                    extra.update({F["job_duration"]: rng.choice([minutes, minutes + 30, minutes * 2])})
                    if code != "NEW" or rng.random() < 0.5:
                        extra[F["job_at"]] = start.isoformat(timespec="seconds")
                    if code != "NEW":
                        extra[F["worker"]] = rng.choice(team)
                kind = {"Замеры": "Замер", "Производство": "Заказ", "Монтаж": "Монтаж"}[name]
                if extra[F["worker"]] == FIELD_WORKER:
                    extra["ASSIGNED_BY_ID"] = FIELD_WORKER       # his own jobs: what his "own" role reaches
                row = deal_row(db, now_iso, f"{kind}: {addr}", cat, cd.stage_prefix(DEAL, cat) + code,
                               float(rng.randrange(15000, 250000, 500)), **extra)
                deal_ids.append(db.deals.insert(row))
        assert workers[0] == FIELD_WORKER
        perms.set_role(db, FIELD_WORKER, FIELD_WORKER_ROLE)
    return {"workers": workers, "department": dep, "categories": cats, "deals": deal_ids,
            "companies": [c[0] for c in companies], "field_worker": FIELD_WORKER}


def _phone(rng: random.Random) -> str:
    return f"+7 9{rng.randrange(10, 99)} {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}"
