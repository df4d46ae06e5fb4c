"""UI strings in Russian and English, chosen by the portal user's LANG (reference §1.2: the frame query
carries ``LANG``). Russian is the first language of the product; any other LANG falls back to English
except the CIS languages, which read Russian better than English."""
from __future__ import annotations

RU_LIKE = {"ru", "ua", "by", "kz"}

STRINGS: dict[str, dict[str, str]] = {
    "ru": {
        "app_title": "b24app",
        "portal": "Портал",
        "user": "Пользователь",
        "status": "Статус приложения",
        "placement": "Место встройки",
        "status.installed": "установлено",
        "status.installing": "устанавливается",
        "status.needs_reinstall": "нужна переустановка",
        "status.uninstalled": "удалено",
        "reinstall_warning": "Приложение потеряло доступ к порталу. Администратору нужно переустановить "
                             "приложение (Приложения → b24app → Переустановить).",
        "install.title": "Установка b24app",
        "install.done": "Приложение установлено. Завершаем установку…",
        "install.finished": "Готово. Откройте приложение в левом меню.",
        "install.failed": "Установка не удалась",
        "install.queued": "Ждём начала установки…",
        "install.running": "Настраиваем портал: смарт-процессы, воронки, поля, роботы…",
        "install.step": "Сейчас",
        "install.retry": "Повторить установку",
        "install.no_worker": "Установка ещё не началась: запущен ли обработчик очереди (b24app worker)?",
        "install.step.read portal": "читаем настройки портала",
        "install.step.complete": "готово",
        "install.action.create": "создаём", "install.action.update": "обновляем", "install.action.remove": "удаляем",
        "install.kind.smart_process": "смарт-процесс", "install.kind.pipeline": "воронку",
        "install.kind.stage": "стадию", "install.kind.field": "поле", "install.kind.placement": "встройку",
        "install.kind.event": "обработчик события", "install.kind.robot": "робота",
        "main.welcome": "Приложение подключено к порталу.",
        "error.bad_request": "Неверный запрос",
        "error.unauthorized": "Запрос не подтверждён порталом",
        "error.forbidden": "Доступ запрещён",
        "error.busy": "Портал сейчас перегружен запросами — откройте приложение ещё раз через несколько секунд",
    },
    "en": {
        "app_title": "b24app",
        "portal": "Portal",
        "user": "User",
        "status": "Application status",
        "placement": "Placement",
        "status.installed": "installed",
        "status.installing": "installing",
        "status.needs_reinstall": "needs re-install",
        "status.uninstalled": "uninstalled",
        "reinstall_warning": "The application lost access to the portal. An administrator must re-install it "
                             "(Applications → b24app → Reinstall).",
        "install.title": "Installing b24app",
        "install.done": "The application is installed. Finishing the installation…",
        "install.finished": "Done. Open the application from the left menu.",
        "install.failed": "Installation failed",
        "install.queued": "Waiting for the installation to start…",
        "install.running": "Setting up the portal: smart processes, pipelines, fields, robots…",
        "install.step": "Now",
        "install.retry": "Retry the installation",
        "install.no_worker": "The installation has not started yet: is the queue worker (b24app worker) running?",
        "install.step.read portal": "reading the portal's settings",
        "install.step.complete": "done",
        "install.action.create": "creating", "install.action.update": "updating", "install.action.remove": "removing",
        "install.kind.smart_process": "smart process", "install.kind.pipeline": "pipeline",
        "install.kind.stage": "stage", "install.kind.field": "field", "install.kind.placement": "placement",
        "install.kind.event": "event handler", "install.kind.robot": "robot",
        "main.welcome": "The application is connected to the portal.",
        "error.bad_request": "Bad request",
        "error.unauthorized": "The request was not confirmed by the portal",
        "error.forbidden": "Access denied",
        "error.busy": "The portal is busy right now: reopen the app in a few seconds",
    },
}


def lang_of(value: str | None) -> str:
    """Portal LANG (``ru``, ``en``, ``de``, ``ua``…) → one of our two languages."""
    v = (value or "").strip().lower()[:2]
    if not v:
        return "ru"
    return "ru" if v in RU_LIKE else "en"


def t(lang: str | None, key: str) -> str:
    table = STRINGS[lang_of(lang)]
    return table.get(key) or STRINGS["en"].get(key) or key


def strings(lang: str | None) -> dict[str, str]:
    """The whole table for templates: ``{{ s['portal'] }}``."""
    base = dict(STRINGS["en"])
    base.update(STRINGS[lang_of(lang)])
    return base
