"""The worker's phone page in Russian and English (chosen by the portal's LANG, or the phone link's)."""
from __future__ import annotations

STRINGS = {
    "ru": {
        "title": "Мой день", "loading": "Загрузка…", "empty": "На этот день выездов и посещений нет.",
        "route": "Маршрут дня", "yandex": "Яндекс Карты", "navigator": "Навигатор", "google": "Google Карты",
        "on_way": "Выехал", "started": "Начал работу", "finished": "Закончил", "photo": "Фото",
        "form": "Бланк с подписью", "comment": "Комментарий", "check_in": "Я на месте", "check_out": "Ушёл",
        "send": "Отправить", "comment_ph": "Что сделано, что нужно клиенту…",
        "status.planned": "запланирован", "status.on_way": "в пути", "status.started": "в работе",
        "status.finished": "выполнен", "queued": "ждёт сети: {n}", "sending": "отправляется…",
        "offline": "Нет сети: действия сохранены на телефоне и уйдут, когда сеть вернётся.",
        "online": "Сеть есть", "sent": "Отправлено", "refused": "Не принято: {e}",
        "travel": "в пути {n} мин", "on_site": "на объекте {n} мин", "files": "файлов: {n}",
        "job": "Выезд", "visit": "Посещение", "work_order": "Заказ-наряд",
        "focus": "Из задачи", "date": "День", "show": "Показать",
    },
    "en": {
        "title": "My day", "loading": "Loading…", "empty": "No jobs or visits on this day.",
        "route": "Route of the day", "yandex": "Yandex Maps", "navigator": "Navigator", "google": "Google Maps",
        "on_way": "On my way", "started": "Started", "finished": "Finished", "photo": "Photo",
        "form": "Signed form", "comment": "Comment", "check_in": "Check in", "check_out": "Check out",
        "send": "Send", "comment_ph": "What was done, what the client needs…",
        "status.planned": "planned", "status.on_way": "on the way", "status.started": "in progress",
        "status.finished": "done", "queued": "waiting for network: {n}", "sending": "sending…",
        "offline": "No network: actions are kept on the phone and sent when the network returns.",
        "online": "Online", "sent": "Sent", "refused": "Refused: {e}",
        "travel": "travel {n} min", "on_site": "on site {n} min", "files": "files: {n}",
        "job": "Job", "visit": "Visit", "work_order": "Work order",
        "focus": "From the task", "date": "Day", "show": "Show",
    },
}


def strings(lang: str) -> dict:
    return STRINGS["en" if lang == "en" else "ru"]
