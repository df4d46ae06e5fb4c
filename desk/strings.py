"""The intake screen's words in the portal's language (ru / en)."""
from __future__ import annotations

from b24app.i18n import lang_of

RU = {
    "title": "Приём заявок", "phone": "Телефон", "find": "Найти", "searching": "Ищем…",
    "not_found": "Клиент с таким телефоном не найден — проверьте номер или создайте клиента в CRM.",
    "contacts": "Контакты", "company": "Компания", "equipment": "Техника", "no_equipment": "Техники нет",
    "model": "Модель", "serial": "Серийный №", "purchase": "Куплена", "warranty_end": "Гарантия до",
    "days_left": "Дней гарантии", "hours_left": "Моточасов по гарантии", "on_warranty": "на гарантии",
    "expired": "гарантия истекла", "unknown": "гарантия не указана",
    "deals_open": "Открытые сделки", "deals_closed": "Последние закрытые", "no_deals": "Сделок нет",
    "open": "Открыть в Битрикс24", "new_request": "Новая заявка на сервис", "comment": "Комментарий",
    "created": "Заявка создана", "request.title": "Заявка на сервис: {phone}", "select": "выбрать",
    "error": "Ошибка",
}
EN = {
    "title": "Service desk", "phone": "Phone", "find": "Find", "searching": "Searching…",
    "not_found": "No client has this phone — check the number or create the client in the CRM.",
    "contacts": "Contacts", "company": "Company", "equipment": "Equipment", "no_equipment": "No equipment",
    "model": "Model", "serial": "Serial No.", "purchase": "Purchased", "warranty_end": "Warranty until",
    "days_left": "Warranty days left", "hours_left": "Warranty hours left", "on_warranty": "under warranty",
    "expired": "warranty expired", "unknown": "no warranty recorded",
    "deals_open": "Open deals", "deals_closed": "Last closed", "no_deals": "No deals",
    "open": "Open in Bitrix24", "new_request": "New service request", "comment": "Comment",
    "created": "Request created", "request.title": "Service request: {phone}", "select": "select",
    "error": "Error",
}


def strings(lang: str | None) -> dict:
    return EN if lang_of(lang) == "en" else RU
