"""An installed b24app on an empty sandbox portal that the furniture maker of seed 004 has set up by hand:
a sales department (head + manager), a production head, the 10-stage deal pipeline, its fields — and the
seed's rules preset installed for that pipeline. The portal's FakeClock is the rules' clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.app.conftest import live_app, store_url  # noqa: F401 - the live app fixture

# what a deal carries once the earlier stages' required fields are filled (the entry guards let it pass)
PASSED = {"OPPORTUNITY": 120000, "UF_CRM_PAYMENT_AMOUNT": 60000, "UF_CRM_DUE_DATE": "2027-04-01",
          "UF_CRM_TECH_DOCS": "КД-15.pdf"}
STAGES = [("CALC", "Расчет проекта", None), ("APPROVAL", "Согласование", None),
          ("PAYMENT", "Ожидание оплаты", None), ("DESIGN", "Проектирование", None),
          ("PROD_TASK", "Постановка задачи на производство", None), ("PRODUCTION", "Производство", None),
          ("READY", "Заказ готов", None), ("SHIPMENT", "Отгрузка товара", None), ("INSTALL", "Монтаж", None),
          ("WON", "Сделка завершена", "S"), ("LOSE", "Провал", "F")]


@dataclass
class Furniture:
    live: object
    portal: object
    cloud: object
    category: int
    head: int
    manager: int
    production_head: int
    technologist: int = 0
    nps_category: int = 0

    @property
    def services(self):
        return self.live.services

    @property
    def member_id(self) -> str:
        return self.portal.member_id

    @property
    def client(self):
        return self.services.client(self.member_id)

    def stage(self, code: str) -> str:
        return f"C{self.category}:{code}"

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.cloud.clock.now(), UTC)

    def set_now(self, moment: datetime) -> None:
        self.cloud.clock.advance(moment.timestamp() - self.cloud.clock.now())

    def advance(self, days: float = 0, hours: float = 0) -> None:
        self.cloud.clock.advance(days * 86400 + hours * 3600)

    def deal(self, deal_id: int) -> dict:
        return self.client.call("crm.deal.get", {"id": deal_id})

    def add_deal(self, stage: str = "CALC", **fields) -> int:
        return int(self.client.call("crm.deal.add", {"fields": {
            "TITLE": fields.pop("TITLE", "Прилавок"), "CATEGORY_ID": self.category, "STAGE_ID": self.stage(stage),
            "ASSIGNED_BY_ID": self.manager, **fields}}))

    def move(self, deal_id: int, stage: str, **fields) -> None:
        self.client.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": self.stage(stage), **fields}})

    def notes(self, user_id: int | None = None) -> list[dict]:
        """im.notify.system.add calls the portal took, in order (the request log)."""
        out = [{**r.params, "USER_ID": int(r.params.get("USER_ID") or 0)} for r in self.portal.log
               if r.method == "im.notify.system.add" and r.status == 200]
        return [n for n in out if user_id is None or n["USER_ID"] == user_id]

    def tasks(self, responsible: int | None = None) -> list[dict]:
        out = [r.params.get("fields") or {} for r in self.portal.log
               if r.method == "tasks.task.add" and r.status == 200]
        return [t for t in out if responsible is None or int(t.get("RESPONSIBLE_ID") or 0) == responsible]

    def breathe(self, seconds: float = 40) -> None:
        """Let the portal's leaky bucket (2 req/s on the portal's own clock) drain, as real time would."""
        self.cloud.clock.advance(seconds)

    def run_events(self) -> int:
        """Pull the portal's offline events into the inbox and run the worker until idle."""
        from b24app.inbox import pull_offline

        self.breathe()
        while pull_offline(self.services, self.member_id):
            pass
        return drain(self.services, self.member_id)

    def sweep(self):
        from rules.engine import sweep

        return sweep(self.services, self.member_id, self.now())


def drain(services, member_id: str) -> int:
    """Run the worker until the portal's inbox holds nothing pending — a retried item included: its retry
    time is moved up by shifting the inbox's clock (tests may move it) instead of sleeping."""
    from b24app.inbox import Worker

    inbox = services.store.inbox
    worker, total = Worker(services, backoff=0.01, max_backoff=0.05), 0
    for _ in range(50):
        n = worker.run_once()
        total += n
        if not n:
            if not inbox.counts(member_id).get("pending"):
                return total
            inbox.clock = (lambda base: lambda: base() + 1.0)(inbox.clock)
    raise AssertionError("the inbox did not drain")


def setup_portal(portal) -> dict:
    from b24sandbox import crmdefaults
    from b24sandbox.db import DEAL

    db = portal.db
    sales = db.departments.insert({"NAME": "Отдел продаж", "SORT": 510, "PARENT": 1, "UF_HEAD": None})
    head = db.add_user("Ирина", "Руководителева", "head@example.ru", department=sales, position="РОП")
    db.departments.rows[sales]["UF_HEAD"] = head
    manager = db.add_user("Павел", "Продажин", "sales@example.ru", department=sales, position="Менеджер")
    production_head = db.add_user("Степан", "Цехов", "prod@example.ru", position="Начальник производства")
    technologist = db.add_user("Тимур", "Технологов", "tech@example.ru", position="Технолог")
    cat = crmdefaults.add_category(db, DEAL, "Продажи и производство", stages=STAGES)["id"]
    nps = crmdefaults.add_category(db, DEAL, "NPS", stages=NPS_STAGES)["id"]
    db.add_userfield("CRM_DEAL", "UF_CRM_PAYMENT_AMOUNT", "double", label="Сумма оплаты")
    db.add_userfield("CRM_DEAL", "UF_CRM_ORDER_NUMBER", "string", label="Номер заказа")
    db.add_userfield("CRM_DEAL", "UF_CRM_ORDER_TYPE", "string", label="Тип заказа")
    db.add_userfield("CRM_DEAL", "UF_CRM_SHIP_AT", "datetime", label="Дата и время отгрузки")
    db.add_userfield("CRM_DEAL", "UF_CRM_DUE_DATE", "date", label="Срок сдачи")
    db.add_userfield("CRM_DEAL", "UF_CRM_TECH_DOCS", "string", label="Документация от технолога")
    db.add_userfield("CRM_DEAL", "UF_CRM_ASSEMBLERS", "employee", label="Соисполнители производства", multiple=True)
    db.add_userfield("CRM_DEAL", "UF_CRM_INSTALL_NEEDED", "boolean", label="Нужен монтаж")
    db.add_userfield("CRM_DEAL", "UF_CRM_INSTALL_PHOTOS", "string", label="Фото монтажа")
    db.add_userfield("CRM_DEAL", "UF_CRM_CLOSING_DOCS", "string", label="Закрывающие документы")
    db.add_userfield("CRM_DEAL", "UF_CRM_PAID_FULL", "boolean", label="Оплата получена полностью")
    return {"category": cat, "head": head, "manager": manager, "production_head": production_head,
            "technologist": technologist, "nps_category": nps}


NPS_STAGES = [("NEW", "Новая оценка", None), ("WON", "Положительная", "S"), ("LOSE", "Отрицательная", "F")]


def preset_variables(f) -> dict:
    return {"category": f["category"], "production_head": f["production_head"], "technologist": f["technologist"],
            "nps_category": f["nps_category"],
            **{f"nps_stage_{k}": f"C{f['nps_category']}:{v}" for k, v in
               {"new": "NEW", "positive": "WON", "negative": "LOSE"}.items()},
            **{f"stage_{k}": f"C{f['category']}:{v}" for k, v in
               {"calc": "CALC", "approval": "APPROVAL", "payment": "PAYMENT", "design": "DESIGN",
                "prod_task": "PROD_TASK", "production": "PRODUCTION", "ready": "READY",
                "shipment": "SHIPMENT", "install": "INSTALL", "won": "WON"}.items()}}


@pytest.fixture
def clock_start():
    """Where the portal's clock starts (a test parametrizes it: ``@pytest.mark.parametrize("clock_start",
    [datetime])``); tokens live weeks, so a test starts near its dates instead of jumping a year."""
    return None


@pytest.fixture
def cloud(demo_app, clock_start):
    from b24sandbox import SandboxCloud
    from b24sandbox.clock import FakeClock

    c = SandboxCloud(clock=FakeClock(clock_start.timestamp() if clock_start else None), demo_app=demo_app)
    yield c
    c.shutdown()


@pytest.fixture
def furniture(live_app, portal, cloud):
    """Our leaky bucket runs on the portal's clock, as the portal's own does (``breathe`` drains both),
    instead of the test waiting in real time for ours."""
    from b24app.throttle import Throttle

    live_app.services.throttle = Throttle(clock=cloud.clock.now, sleep=cloud.clock.advance)
    res = live_app.install(portal)
    assert res["progress"]["state"] == "done", res
    f = setup_portal(portal)
    from rules import model, presets

    model.save(live_app.store.kv, portal.member_id, presets.build("seed004_furniture", preset_variables(f)))
    return Furniture(live_app, portal, cloud, **f)
