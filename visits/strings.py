"""UI strings of the visit pages (ru/en by the portal user's LANG); the Visit stages' names and colours are
read from app.json (the one declaration the installer puts on the portal), never copied here."""
from __future__ import annotations

from b24app.i18n import lang_of
from install.manifest import load

TYPES = {
    "ru": {"planned": "Плановый", "repeat": "Повторный", "unplanned": "Внеплановый",
           "merchandising": "Мерчендайзинг", "training": "Обучение"},
    "en": {"planned": "Planned", "repeat": "Repeat", "unplanned": "Unplanned", "merchandising": "Merchandising",
           "training": "Training"},
}
UI = {
    "ru": {
        "title.company": "Посещения компании", "title.calendar": "Календарь посещений", "title.visit": "Посещение",
        "tab.calendar": "Календарь", "tab.list": "Список", "tab.map": "Карта компаний", "tab.stats": "Статистика",
        "tab.route": "Маршрут дня", "by.stage": "По стадиям", "by.manager": "По менеджерам",
        "planned": "Запланированные", "past": "Прошедшие", "none": "Посещений нет",
        "new": "Новое посещение", "date": "Дата и время", "type": "Тип", "purpose": "Цель визита",
        "create": "Запланировать", "created": "Посещение создано", "company": "Компания",
        "manager": "Менеджер", "me": "я", "stage": "Стадия", "result": "Результат визита", "comment": "Комментарий",
        "photo": "Фото", "save_result": "Сохранить результат", "saved": "Сохранено",
        "repeat": "Запланировать повторный визит", "repeat_date": "Дата повторного визита",
        "reschedule": "Перенести визит", "reschedule_date": "Новая дата и время", "rescheduled": "Визит перенесён",
        "open_company": "Открыть компанию", "plan_visit": "Запланировать визит", "visited": "посещена",
        "not_visited": "не посещена", "period": "Период", "period.month": "этот месяц",
        "period.quarter": "этот квартал", "period.year": "этот год", "closed": "Проведено", "plan": "План",
        "open": "Открыто", "overdue": "Просрочено", "percent": "% плана", "day": "День",
        "build_route": "Построить маршрут", "open_yandex": "Открыть в Яндекс Картах", "drive": "в пути, мин",
        "route.agreed": "договорились на", "route.late": "не успеть к",
        "unplaced": "Без координат", "phone_link": "Открыть на телефоне", "phone_hint":
            "Наведите камеру телефона на код или откройте ссылку в браузере телефона. Ссылка только ваша: "
            "она действует, пока её не отзовут в настройках приложения.",
        "phone_qr": "QR-код ссылки для телефона", "edit_hint": "Нажмите, чтобы изменить",
        "address": "Адрес", "phone": "Телефон", "region": "Регион", "comments": "Комментарий", "back": "Назад",
        "month.prev": "‹", "month.next": "›", "error": "Ошибка", "loading": "Загрузка…",
        "company_fields": "Карточка компании", "visits_of_company": "Посещения этой компании",
        "period.days": "последние {n} дн.", "tab.settings": "Настройки", "save": "Сохранить",
        "settings.popup": "Поля компании во всплывающем окне карты", "settings.period": "Период «посещена»",
        "settings.period_hint": "month, quarter, year, 30d (последние 30 дней) или 2026-01",
        "register": "Зарегистрировать посещение", "find_company": "Компания",
        "find_hint": "Введите 2 буквы названия", "nothing_found": "Ничего не найдено", "change": "Изменить",
        "task.title": "Задача по визиту", "task.name": "Что сделать", "task.deadline": "Срок",
        "task.add": "Поставить задачу", "task.added": "Задача поставлена",
        "contacts": "Контакты компании", "contact.name": "Имя", "contact.last_name": "Фамилия",
        "contact.post": "Должность", "contact.phone": "Телефон", "contact.email": "E-mail",
        "contact.add": "Добавить контакт", "contact.added": "Контакт добавлен", "contacts.none": "Контактов нет",
        "pin.move": "Передвинуть метку", "pin.hint": "Перетащите метку на точное место",
        "pin.saved": "Метка сохранена", "pick.add": "В маршрут", "pick.remove": "Убрать из маршрута",
        "pick.count": "Отмечено для маршрута", "pick.plan": "Запланировать визиты", "pick.clear": "Сбросить",
        "pick.planned": "Запланировано визитов",
    },
    "en": {
        "title.company": "Company visits", "title.calendar": "Visit calendar", "title.visit": "Visit",
        "tab.calendar": "Calendar", "tab.list": "List", "tab.map": "Company map", "tab.stats": "Stats",
        "tab.route": "Day route", "by.stage": "By stage", "by.manager": "By manager",
        "planned": "Planned", "past": "Past", "none": "No visits",
        "new": "New visit", "date": "Date and time", "type": "Type", "purpose": "Purpose",
        "create": "Plan it", "created": "Visit created", "company": "Company",
        "manager": "Manager", "me": "me", "stage": "Stage", "result": "Result", "comment": "Comment",
        "photo": "Photo", "save_result": "Save the result", "saved": "Saved",
        "repeat": "Plan a repeat visit", "repeat_date": "Repeat visit date",
        "reschedule": "Move the visit", "reschedule_date": "New date and time", "rescheduled": "Visit moved",
        "open_company": "Open company", "plan_visit": "Plan a visit", "visited": "visited",
        "not_visited": "not visited", "period": "Period", "period.month": "this month",
        "period.quarter": "this quarter", "period.year": "this year", "closed": "Done", "plan": "Plan",
        "open": "Open", "overdue": "Overdue", "percent": "% of plan", "day": "Day",
        "build_route": "Build the route", "open_yandex": "Open in Yandex Maps", "drive": "driving, min",
        "route.agreed": "agreed for", "route.late": "cannot make it by",
        "unplaced": "No coordinates", "phone_link": "Open on the phone", "phone_hint":
            "Point the phone's camera at the code or open the link in the phone's browser. The link is yours "
            "alone: it works until it is revoked in the app's settings.",
        "phone_qr": "QR code of the phone link", "edit_hint": "Click to edit",
        "address": "Address", "phone": "Phone", "region": "Region", "comments": "Comment", "back": "Back",
        "month.prev": "‹", "month.next": "›", "error": "Error", "loading": "Loading…",
        "company_fields": "Company card", "visits_of_company": "Visits of this company",
        "period.days": "last {n} days", "tab.settings": "Settings", "save": "Save",
        "settings.popup": "Company fields in the map popup", "settings.period": "“Visited” period",
        "settings.period_hint": "month, quarter, year, 30d (the last 30 days) or 2026-01",
        "register": "Register a visit", "find_company": "Company",
        "find_hint": "Type 2 letters of the name", "nothing_found": "Nothing found", "change": "Change",
        "task.title": "A task from the visit", "task.name": "What to do", "task.deadline": "Deadline",
        "task.add": "Set the task", "task.added": "Task set",
        "contacts": "Company contacts", "contact.name": "First name", "contact.last_name": "Last name",
        "contact.post": "Position", "contact.phone": "Phone", "contact.email": "E-mail",
        "contact.add": "Add a contact", "contact.added": "Contact added", "contacts.none": "No contacts",
        "pin.move": "Move the pin", "pin.hint": "Drag the pin to the exact place",
        "pin.saved": "Pin saved", "pick.add": "Add to route", "pick.remove": "Remove from route",
        "pick.count": "Picked for the route", "pick.plan": "Plan the visits", "pick.clear": "Clear",
        "pick.planned": "Visits planned",
    },
}


def stages(lang: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The Visit smart process's stages from the manifest: (our key → name in ``lang``, key → colour)."""
    lang = lang_of(lang)
    declared = load().smart_process("visit")["stages"]
    return ({st["key"]: st["name"].get(lang) or st["name"]["ru"] for st in declared},
            {st["key"]: st.get("color") for st in declared})


def strings(lang: str | None) -> dict:
    lang = lang_of(lang)
    names, colors = stages(lang)
    return {**UI[lang], "stages": names, "types": TYPES[lang], "colors": colors}
