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
        "worker_day": "День сотрудника", "day": "День", "reassign": "Заменить сотрудника",
        "pick_date": "Подобрать дату", "free_windows": "Свободные окна", "no_windows": "Свободных окон нет",
        "no_jobs": "Выездов нет", "drive": "в пути", "min": "мин", "late": "опоздание", "overtime": "переработка",
        "busy": "Занят по календарю", "open_yandex": "Открыть маршрут в Яндекс Картах",
        "open_google": "Открыть маршрут в Google Картах", "part": "часть", "swap_preview": "Что будет при замене",
        "before": "Сейчас", "after": "После замены", "apply_swap": "Заменить", "swapped_ok": "Заменено",
        "extra_total": "Изменение пути обоих", "clash": "накладка", "ok": "без накладок",
        "grid_title": "Выбор даты", "best_slots": "Лучшие варианты", "day_off": "выходной", "no_fit": "нет окна",
        "load": "загрузка", "scheduled_ok": "Назначено на", "prev": "Назад", "next": "Вперёд",
        "unplaced_title": "Адреса без координат", "place_hint": "Щёлкните по карте или перетащите метку",
        "pinned_ok": "Метка поставлена", "status_not_found": "адрес не найден", "status_pending": "ждёт геокодирования",
        "status_error": "ошибка геокодера", "status_no_address": "нет адреса", "stops": "Выезды",
        "nothing": "Ничего нет",
        "move_pin": "Поправить метку", "move_hint": "Щёлкните по карте, где на самом деле адрес, или перетащите метку",
        "legend": "Обозначения", "assign_anyway": "Назначить поверх занятости",
        "override_confirm": "Назначить всё равно? Назначение поверх занятости будет записано в сделке.",
        "override_cancelled": "Не назначено", "assigned_override": "Назначено поверх занятости",
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
        "worker_day": "Worker's day", "day": "Day", "reassign": "Reassign",
        "pick_date": "Pick a date", "free_windows": "Free windows", "no_windows": "No free windows",
        "no_jobs": "No jobs", "drive": "driving", "min": "min", "late": "late", "overtime": "overtime",
        "busy": "Busy in the calendar", "open_yandex": "Open route in Yandex Maps",
        "open_google": "Open route in Google Maps", "part": "part", "swap_preview": "What the swap does",
        "before": "Now", "after": "After the swap", "apply_swap": "Swap", "swapped_ok": "Swapped",
        "extra_total": "Driving change of both", "clash": "clash", "ok": "no clashes",
        "grid_title": "Pick a date", "best_slots": "Best slots", "day_off": "day off", "no_fit": "no window",
        "load": "load", "scheduled_ok": "Scheduled for", "prev": "Back", "next": "Forward",
        "unplaced_title": "Addresses without coordinates", "place_hint": "Click the map or drag the marker",
        "pinned_ok": "Pin set", "status_not_found": "address not found", "status_pending": "waiting for geocoding",
        "status_error": "geocoder error", "status_no_address": "no address", "stops": "Jobs", "nothing": "Nothing here",
        "move_pin": "Move the pin", "move_hint": "Click the map where the address really is, or drag the marker",
        "legend": "Legend", "assign_anyway": "Assign over busy time",
        "override_confirm": "Assign anyway? Booking over the worker's busy time is recorded on the deal.",
        "override_cancelled": "Not assigned", "assigned_override": "Assigned over busy time",
    },
}


def strings(lang: str | None) -> dict:
    return STRINGS[lang_of(lang)]
