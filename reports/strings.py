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
    },
}

# the columns of each table, in order: (row key, string key); the page and the CSV use the same list
COLUMNS = {
    "regions": [("region", "region"), ("planned", "planned"), ("done", "done"), ("overdue", "overdue"),
                ("failed", "failed"), ("total", "total")],
    "employees": [("name", "employee"), ("plan", "plan"), ("fact", "fact"), ("percent", "percent"),
                  ("on_time", "on_time"), ("on_time_percent", "on_time_percent"), ("overdue", "overdue"),
                  ("failed", "failed"), ("planned", "planned"), ("total", "total")],
    "jobs": [("name", "worker"), ("jobs", "jobs"), ("finished", "finished"), ("on_site_minutes", "on_site_minutes"),
             ("travel_minutes", "travel_minutes"), ("avg_on_site_minutes", "avg_on_site_minutes"),
             ("avg_travel_minutes", "avg_travel_minutes")],
}


def strings(lang: str | None) -> dict:
    return UI[lang_of(lang)]
