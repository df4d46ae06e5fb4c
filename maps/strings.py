"""UI strings of the orders map, ru/en by the portal user's LANG (same rule as b24app.i18n)."""
from __future__ import annotations

from b24app.i18n import lang_of

STRINGS = {
    "ru": {
        "title": "Карта заказов", "dispatcher": "Диспетчер", "date": "Дата", "pipeline": "Воронка",
        "stage": "Стадия", "worker": "Сотрудник", "all": "Все", "unassigned": "Не назначен",
        "assigned": "Назначен", "client": "Клиент", "address": "Адрес", "time": "Время", "open_deal": "Открыть сделку",
        "candidates": "Кого назначить", "assign": "Назначить", "loading": "Загрузка…", "jobs": "Заказов на карте",
        "unplaced": "Нет координат", "no_tiles": "Подложка карты недоступна — показаны только метки",
        "assigned_ok": "Назначено", "failed": "Ошибка", "no_time": "без даты", "route": "Маршрут дня",
        "not_fits": "не помещается", "pick": "Кого назначить", "close": "Закрыть", "today": "Сегодня",
        "any_date": "Любая дата", "field_jobs": "Замеры и монтажи",
    },
    "en": {
        "title": "Orders map", "dispatcher": "Dispatcher", "date": "Date", "pipeline": "Pipeline",
        "stage": "Stage", "worker": "Worker", "all": "All", "unassigned": "Unassigned",
        "assigned": "Assigned", "client": "Client", "address": "Address", "time": "Time", "open_deal": "Open the deal",
        "candidates": "Who can take it", "assign": "Assign", "loading": "Loading…", "jobs": "Orders on the map",
        "unplaced": "Without coordinates", "no_tiles": "Map tiles are unavailable — markers only",
        "assigned_ok": "Assigned", "failed": "Failed", "no_time": "no date", "route": "Day route",
        "not_fits": "does not fit", "pick": "Who can take it", "close": "Close", "today": "Today",
        "any_date": "Any date", "field_jobs": "Measurements and installations",
    },
}


def strings(lang: str | None) -> dict:
    return STRINGS[lang_of(lang)]
