"""UI strings and column names of the dashboards (ru/en by the portal user's LANG); stage words as the
Visit kanban names them in app.json."""
from __future__ import annotations

from b24app.i18n import lang_of

UI = {
    "ru": {
        "title": "Отчеты по выездам", "period": "Период", "period.week": "Неделя", "period.month": "Месяц",
        "period.quarter": "Квартал", "period.custom": "Свой период", "from": "с", "to": "по",
        "region": "Регион", "employee": "Сотрудник", "all": "Все", "apply": "Показать", "csv": "Скачать CSV",
        "csv_link": "Ссылка для Excel", "csv_link_hint": "одноразовая, действует 60 секунд",
        "loading": "Загрузка…", "error": "Ошибка", "none": "Нет данных за период", "no_region": "(без региона)",
        "visits.by_region": "Посещения по регионам", "visits.by_employee": "План и факт по сотрудникам",
        "jobs.by_worker": "Выезды по сотрудникам (карта заказов)", "jobs.note": "Регион к выездам не применяется",
        "planned": "Запланировано", "done": "Визит проведен", "overdue": "Просрочено", "failed": "Визит не состоялся",
        "total": "Всего", "plan": "План", "fact": "Факт", "percent": "% плана", "on_time": "Вовремя",
        "on_time_percent": "% вовремя", "worker": "Сотрудник", "jobs": "Выездов", "finished": "Завершено",
        "on_site_minutes": "На месте, мин", "travel_minutes": "В дороге, мин",
        "avg_on_site_minutes": "На месте в среднем, мин", "avg_travel_minutes": "В дороге в среднем, мин",
        "totals": "Итого", "read": "Прочитано посещений: {rows}, запросов к порталу: {calls}",
        "trend": "План и факт по месяцам", "types": "Типы посещений", "type": "Тип", "count": "Посещений",
        "share": "Доля, %", "month": "Месяц", "sales.by_employee": "Продажи 1С и посещения по сотрудникам",
        "sales": "Продажи 1С, ₽", "done_visits": "Проведено визитов", "visits": "Посещений", "deals": "Сделок",
        "per_visit": "Продаж на визит, ₽", "sales.note": "Регион к продажам не применяется",
        "xlsx": "Скачать XLSX", "cached": "Данные на {at} · запросов к порталу: {calls}",
        "no_type": "(без типа)", "plans": "Планы посещений", "feed": "Поток данных для Power BI / Excel",
        "type.planned": "Плановый", "type.repeat": "Повторный", "type.unplanned": "Внеплановый",
        "type.merchandising": "Мерчендайзинг", "type.training": "Обучение",
        "tab.dashboards": "Дашборды", "tab.plans": "Планы", "tab.feed": "Power BI / Excel",
        "plans.hint": "Сколько посещений каждый сотрудник должен провести в месяц. Пустая клетка — план из "
                      "настроек посещений.", "plans.year": "Год", "plans.add": "Добавить сотрудника",
        "plans.save": "Сохранить планы", "plans.saved": "Планы сохранены: {written}, удалено: {removed}.",
        "plans.import": "Загрузить из CSV", "plans.import_hint": "Строки «сотрудник;месяц;визиты», например "
                        "«Мария Менеджерова;2026-01;100». Сотрудник — имя, e-mail или id; файл с ошибкой не "
                        "загружается целиком.", "plans.imported": "Загружено строк: {lines}.",
        "plans.none": "Планов за этот год ещё нет — добавьте сотрудника.", "plans.admin_only":
        "Планы меняет администратор приложения.",
        "feed.hint": "GET {url} с заголовком Authorization: Bearer <токен>; те же фильтры, что на дашбордах "
                     "(period, from, to, region, user). Описание полей — docs/reports_feed.md.",
        "feed.none": "Токена ещё нет.", "feed.exists": "Токен создан {at}.", "feed.rotate": "Создать новый токен",
        "feed.revoke": "Отозвать", "feed.shown_once": "Скопируйте токен сейчас — больше он не будет показан:",
        "feed.revoked": "Токен отозван.",
    },
    "en": {
        "title": "Field reports", "period": "Period", "period.week": "Week", "period.month": "Month",
        "period.quarter": "Quarter", "period.custom": "Custom", "from": "from", "to": "to",
        "region": "Region", "employee": "Employee", "all": "All", "apply": "Show", "csv": "Download CSV",
        "csv_link": "Link for Excel", "csv_link_hint": "works once, for 60 seconds",
        "loading": "Loading…", "error": "Error", "none": "No data for the period", "no_region": "(no region)",
        "visits.by_region": "Visits by region", "visits.by_employee": "Plan vs fact by employee",
        "jobs.by_worker": "Jobs by worker (orders map)", "jobs.note": "The region filter does not apply to jobs",
        "planned": "Planned", "done": "Visit done", "overdue": "Overdue", "failed": "Visit failed",
        "total": "Total", "plan": "Plan", "fact": "Fact", "percent": "% of plan", "on_time": "On time",
        "on_time_percent": "% on time", "worker": "Worker", "jobs": "Jobs", "finished": "Finished",
        "on_site_minutes": "On site, min", "travel_minutes": "Travel, min",
        "avg_on_site_minutes": "Avg on site, min", "avg_travel_minutes": "Avg travel, min",
        "totals": "Total", "read": "Visits read: {rows}, portal requests: {calls}",
        "trend": "Plan vs fact by month", "types": "Visit types", "type": "Type", "count": "Visits",
        "share": "Share, %", "month": "Month", "sales.by_employee": "1C sales and visits by employee",
        "sales": "1C sales, RUB", "done_visits": "Visits done", "visits": "Visits", "deals": "Deals",
        "per_visit": "Sales per visit, RUB", "sales.note": "The region filter does not apply to sales",
        "xlsx": "Download XLSX", "cached": "Data as of {at} · portal requests: {calls}",
        "no_type": "(no type)", "plans": "Visit plans", "feed": "Data feed for Power BI / Excel",
        "type.planned": "Planned", "type.repeat": "Repeat", "type.unplanned": "Unplanned",
        "type.merchandising": "Merchandising", "type.training": "Training",
        "tab.dashboards": "Dashboards", "tab.plans": "Plans", "tab.feed": "Power BI / Excel",
        "plans.hint": "How many visits each employee should make in a month. An empty cell: the plan of the "
                      "visits settings.", "plans.year": "Year", "plans.add": "Add an employee",
        "plans.save": "Save plans", "plans.saved": "Plans saved: {written}, removed: {removed}.",
        "plans.import": "Import CSV", "plans.import_hint": "Lines \"employee;month;visits\", e.g. "
                        "\"Maria Manager;2026-01;100\". The employee is a name, an e-mail or an id; a file with "
                        "an error is not imported at all.", "plans.imported": "Lines imported: {lines}.",
        "plans.none": "No plans for this year yet: add an employee.", "plans.admin_only":
        "An app administrator changes the plans.",
        "feed.hint": "GET {url} with the header Authorization: Bearer <token>; the same filters as the dashboards "
                     "(period, from, to, region, user). Fields: docs/reports_feed.md.",
        "feed.none": "No token yet.", "feed.exists": "Token created {at}.", "feed.rotate": "Create a new token",
        "feed.revoke": "Revoke", "feed.shown_once": "Copy the token now: it will not be shown again:",
        "feed.revoked": "Token revoked.",
    },
}

# the columns of each table, in order: (row key, string key); the page and the CSV use the same list
COLUMNS = {
    "regions": [("region", "region"), ("planned", "planned"), ("done", "done"), ("overdue", "overdue"),
                ("failed", "failed"), ("total", "total")],
    "employees": [("name", "employee"), ("plan", "plan"), ("fact", "fact"), ("percent", "percent"),
                  ("on_time", "on_time"), ("on_time_percent", "on_time_percent"), ("overdue", "overdue"),
                  ("failed", "failed"), ("planned", "planned"), ("total", "total")],
    "types": [("label", "type"), ("count", "count"), ("share", "share")],
    "trend": [("label", "month"), ("plan", "plan"), ("fact", "fact"), ("percent", "percent")],
    "sales": [("name", "employee"), ("visits", "visits"), ("done", "done_visits"), ("sales", "sales"),
              ("deals", "deals"), ("per_visit", "per_visit")],
    "jobs": [("name", "worker"), ("jobs", "jobs"), ("finished", "finished"), ("on_site_minutes", "on_site_minutes"),
             ("travel_minutes", "travel_minutes"), ("avg_on_site_minutes", "avg_on_site_minutes"),
             ("avg_travel_minutes", "avg_travel_minutes")],
}


PICKER_KEYS = ("roles.find_placeholder", "roles.searching", "roles.no_match", "picker.more", "dispatch.remove",
               "not_allowed", "error", "save", "saved", "saving")


def strings(lang: str | None) -> dict:
    return UI[lang_of(lang)]


def page_strings(lang: str | None) -> dict:
    """The page's words with the person picker's own (admin/picker.js reads them from the same table)."""
    from b24app.admin_strings import strings as admin

    a = admin(lang)
    return {**{k: a[k] for k in PICKER_KEYS if k in a}, **strings(lang)}


def type_label(key: str, lang: str | None) -> str:
    s = strings(lang)
    return s["no_type"] if not key else s.get(f"type.{key}", key)
