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
    "error": "Ошибка", "warranty": "Гарантия", "plain_request": "Обращение без заказ-наряда",
    "repair": "Ремонт", "maintenance": "ТО", "presale": "Предпродажная подготовка",
    "ringing": "Входящий звонок", "talking": "Разговор",
    "search_title": "Найти клиента по названию или ИНН", "search_hint": "название, ИНН или фамилия",
    "nothing_found": "Ничего не найдено", "new_client": "Или создать клиента и технику",
    "kind": "Клиент", "kind_company": "Компания", "kind_person": "Частное лицо", "company_title": "Название",
    "inn": "ИНН", "contact_name": "Имя контакта", "last_name": "Фамилия", "machine": "Техника",
    "price": "Стоимость", "manufacturer": "Завод-изготовитель", "warranty_hours": "Моточасы по гарантии",
    "hours_used": "Наработка, м/ч", "create_client": "Создать клиента и технику",
    "cp_unchecked": "Контрагент ещё не проверен: постгарантийные работы — после проверки.",
    "scenario": "Сценарий",
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
    "error": "Error", "warranty": "Warranty", "plain_request": "Request without a work order",
    "repair": "Repair", "maintenance": "Maintenance", "presale": "Pre-sale preparation",
    "ringing": "Incoming call", "talking": "On the call",
    "search_title": "Find the client by name or INN", "search_hint": "name, INN or last name",
    "nothing_found": "Nothing found", "new_client": "Or create the client and the machine",
    "kind": "Client", "kind_company": "Company", "kind_person": "Private person", "company_title": "Name",
    "inn": "INN", "contact_name": "Contact's first name", "last_name": "Last name", "machine": "Machine",
    "price": "Price", "manufacturer": "Manufacturer", "warranty_hours": "Warranty hours",
    "hours_used": "Hours used", "create_client": "Create the client and the machine",
    "cp_unchecked": "Counterparty not checked yet: post-warranty work after the check.",
    "scenario": "Scenario",
}


def strings(lang: str | None) -> dict:
    en = lang_of(lang) == "en"
    return {**(EN if en else RU), "scenarios": SCENARIOS["en" if en else "ru"]}


STAGES = {
    "ru": {"new": "Новая заявка", "engineer": "У инженера", "diag_trip": "Диагностический выезд",
           "mfr_approval": "Согласование с заводом", "parts_payment": "Ожидание оплаты запчастей",
           "parts": "Ожидание запчастей", "mechanic": "У механика", "act": "Подписание акта",
           "payment": "Ожидание оплаты", "won": "Выполнено", "lost": "Отказ"},
    "en": {"new": "New request", "engineer": "At the engineer", "diag_trip": "Diagnostic trip",
           "mfr_approval": "Manufacturer approval", "parts_payment": "Waiting for parts payment",
           "parts": "Waiting for parts", "mechanic": "At the mechanic", "act": "Act signing",
           "payment": "Waiting for payment", "won": "Done", "lost": "Cancelled"},
}
SCENARIOS = {
    "ru": {"svc_warranty_repair": "Гарантийный ремонт", "svc_warranty_maint": "Гарантийное ТО",
           "svc_post_repair": "Постгарантийный ремонт", "svc_post_maint": "Постгарантийное ТО",
           "svc_presale": "Предпродажная подготовка"},
    "en": {"svc_warranty_repair": "Warranty repair", "svc_warranty_maint": "Warranty maintenance",
           "svc_post_repair": "Post-warranty repair", "svc_post_maint": "Post-warranty maintenance",
           "svc_presale": "Pre-sale preparation"},
}
STATUSES = {
    "ru": {"not_in_work": "не в работе", "at_engineer": "у инженера", "at_mechanic": "у механика",
           "waiting_parts": "ждёт запчасти", "waiting_payment": "ждёт оплату", "done": "выполнен",
           "cancelled": "отменён"},
    "en": {"not_in_work": "not in work", "at_engineer": "at the engineer", "at_mechanic": "at the mechanic",
           "waiting_parts": "waiting for parts", "waiting_payment": "waiting for payment", "done": "done",
           "cancelled": "cancelled"},
}
MONTHS = {"ru": ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"],
          "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]}


def stage_name(lang: str | None, key: str) -> str:
    return STAGES["en" if lang_of(lang) == "en" else "ru"].get(key, key)


def day_text(lang: str | None, d) -> str:
    """23 Jan 2025 / 23 янв 2025 — how the portal writes a date in words."""
    return f"{d.day} {MONTHS['en' if lang_of(lang) == 'en' else 'ru'][d.month - 1]} {d.year}"


def registry_strings(lang: str | None) -> dict:
    en = lang_of(lang) == "en"
    base = {
        "title": "Work-order registry" if en else "Реестр заказ-нарядов",
        "order": "Work order" if en else "Заказ-наряд", "scenario": "Scenario" if en else "Сценарий",
        "stage": "Stage" if en else "Этап", "status": "Status" if en else "Статус",
        "decided_by": "Waiting for" if en else "Ждёт", "mechanic": "Mechanic" if en else "Механик",
        "window": "Window" if en else "Окно работ", "tool_cell": "Tool cell" if en else "Ячейка",
        "parts_date": "Parts arrive" if en else "Запчасти", "empty": "No work orders" if en else "Заказ-нарядов нет",
        "loading": "Loading…" if en else "Загрузка…",
        "engineer_block": "Engineer's block" if en else "Блок инженера",
        "head_block": "Service head: mechanic and window" if en else "Руководитель сервиса: механик и время",
        "reason": "Reason" if en else "Причина", "parts_ordered": "Parts ordered" if en else "Запчасти заказаны",
        "parts_arrived": "Parts arrived" if en else "Запчасти пришли",
        "diag_trip": "Paid diagnostic trip" if en else "Платный диагностический выезд",
        "diag_done": "Diagnostics done" if en else "Диагностика проведена",
        "parts_payment": "Waiting for parts payment" if en else "Ожидание оплаты запчастей",
        "engineer_done": "Block done" if en else "Блок заполнен", "save": "Save" if en else "Сохранить",
        "saved": "Saved" if en else "Сохранено", "claim": "Warranty claim" if en else "Запрос заводу",
        "send_claim": "Send the manufacturer's request" if en else "Отправить запрос заводу",
        "claim_sent": "Request sent" if en else "Запрос отправлен",
        "no_manufacturer": "No manufacturer's address for this model" if en else "Нет адреса завода для этой модели",
        "act_number": "Act No." if en else "Акт №", "approved": "Warranty approved" if en else "Гарантия подтверждена",
        "attach_act": "Attach the reclamation act" if en else "Приложить акт рекламации",
        "act_attached": "Act attached" if en else "Акт приложен",
        "act_file_needed": "Choose the act's file" if en else "Выберите файл акта",
        "day": "Day" if en else "День", "from": "From" if en else "С", "to": "To" if en else "До",
        "find_mechanics": "Free mechanics" if en else "Свободные механики",
        "assign": "Assign" if en else "Назначить", "reschedule": "Reschedule" if en else "Перенести",
        "assigned": "Mechanic assigned" if en else "Механик назначен",
        "nobody_free": "Nobody is free then" if en else "В это время свободных нет",
        "why": {"hours": "outside the working hours" if en else "вне рабочего времени",
                "calendar": "busy in the calendar" if en else "занят по календарю",
                "order": "on another work order" if en else "на другом заказ-наряде"},
    }
    base.update({
        "orders": "Work orders" if en else "Заказ-наряды", "reasons": "Repair reasons" if en else "Причины ремонтов",
        "hours": "Hours" if en else "Моточасы", "created": "Created" if en else "Создан",
        "manufacturer": "Manufacturer" if en else "Завод-изготовитель", "purchase": "Purchased" if en else "Куплена",
        "price": "Price" if en else "Стоимость", "warranty_end": "Warranty until" if en else "Гарантия до",
        "warranty_hours": "Warranty hours" if en else "Моточасы по гарантии",
        "hours_used": "Hours used" if en else "Наработка, м/ч", "no_orders": "No work orders yet" if en else
        "Заказ-нарядов пока нет", "no_machine": "No machine in this tab" if en else "Техника не указана",
        "machine_title": "Equipment history" if en else "История техники",
        "stats": "Request reasons by model" if en else "Причины обращений по моделям",
        "model": "Model" if en else "Модель"})
    base["stages"] = STAGES["en" if en else "ru"]
    base["scenarios"] = SCENARIOS["en" if en else "ru"]
    base["statuses"] = STATUSES["en" if en else "ru"]
    return base
