"""The main page's words (hub and administrator settings) in Russian and English. The hub's items are
app.json's own placements (install/hub.py)."""
from __future__ import annotations

from . import roles as app_roles
from .i18n import lang_of

STRINGS: dict[str, dict[str, str]] = {
    "ru": {
        "hub.title": "Разделы приложения",
        "hub.open": "Открыть",
        "hub.opening": "Открываем…",
        "hub.no_bx24": "Откройте приложение из Битрикс24: страницы открываются внутри портала.",
        "install.title": "Установка",
        "install.state.done": "Приложение установлено и готово к работе.",
        "install.state.queued": "Установка ждёт своей очереди…",
        "install.state.running": "Идёт установка",
        "install.state.failed": "Установка не завершена.",
        "install.needs_reinstall": "Приложение потеряло доступ к порталу: переустановите его "
                                   "(Приложения → b24app → Переустановить).",
        "install.retry": "Повторить установку",
        "install.admin_only": "Повторить установку может администратор портала.",
        "settings.title": "Настройки (только для администраторов)",
        "save": "Сохранить", "saved": "Сохранено.", "saving": "Сохраняем…", "error": "Ошибка",
        "loading": "Загружаем…", "not_allowed": "Нет доступа: настройки меняет администратор портала.",
        "1c.title": "Подключение к 1С",
        "1c.base_url": "Адрес публикации OData (…/odata/standard.odata)",
        "1c.username": "Логин", "1c.password": "Пароль",
        "1c.password_keep": "сохранён — оставьте пустым, чтобы не менять",
        "1c.password_none": "ещё не задан",
        "1c.profile": "Конфигурация 1С", "1c.tz": "Часовой пояс 1С",
        "1c.profile_check": "после сохранения нажмите «Проверить подключение»",
        "1c.interval": "Интервал синхронизации, с", "1c.lookback_days": "Глубина чтения оплат, дней",
        "1c.reconcile_hours": "Сверка открытых сделок с регистром 1С, раз в часов",
        "1c.check": "Проверить подключение", "1c.checking": "Проверяем подключение к 1С…",
        "1c.check_ok": "Подключение работает: 1С отвечает, в составе OData есть всё нужное.",
        "1c.check_bad": "1С недоступна или в составе OData чего-то не хватает:",
        "1c.saved_problems": "Сохранено, но проверка нашла проблемы:",
        "1c.pipelines": "Воронки",
        "1c.gate": "Не закрывать сделку, пока она не оплачена",
        "1c.gate_enabled": "Включено", "1c.auto_forward": "Переводить дальше после оплаты",
        "1c.af_from": "со стадии", "1c.af_to": "на стадию", "1c.af_none": "не переводить",
        "1c.status": "Последняя синхронизация",
        "1c.last_ok": "Последняя успешная", "1c.last_error": "Последняя ошибка", "1c.never": "ещё не было",
        "1c.counts": "Прочитано оплат: {read}, изменено: {changed}, обновлено сделок: {updates}, "
                     "комментариев: {comments}, на разбор: {review}",
        "1c.push": "Уведомления из 1С (HTTP-сервис)", "1c.push_url": "Адрес для 1С",
        "1c.push_rotate": "Выдать новый секрет",
        "1c.push_confirm": "Старый секрет перестанет работать. Выдать новый?",
        "1c.push_secret": "Новый секрет (показывается один раз — скопируйте его в настройки 1С):",
        "1c.review": "Оплаты на разбор", "1c.review_empty": "Нет оплат, требующих внимания.",
        "1c.review.unmatched": "Нет сделки с этим номером заказа",
        "1c.review.unmatched.do": "Укажите номер заказа 1С в поле «Номер заказа 1С» нужной сделки.",
        "1c.review.ambiguous": "Заказ подходит нескольким сделкам",
        "1c.review.ambiguous.do": "Оставьте номер заказа 1С только в одной сделке.",
        "1c.review.unallocated": "Оплата без заказа",
        "1c.review.unallocated.do": "В 1С укажите заказ в документе оплаты (расшифровка платежа).",
        "1c.review.currency": "Оплаты в разных валютах",
        "1c.review.currency.do": "Проверьте в 1С валюту оплат этого заказа.",
        "1c.review.order": "Заказ", "1c.review.payment": "Оплата", "1c.review.deals": "Сделки",
        "1c.review.ambiguous.do2": "Одна сделка — один заказ: выберите сделку, к которой относится заказ; "
                                   "остальные сделки оплатой по нему не считаются.",
        "1c.review.duplicate": "Заказ уже связан с другой сделкой",
        "1c.review.duplicate.do": "Оплата по заказу засчитывается только связанной сделке. Если заказ относится "
                                  "к другой сделке, выберите её.",
        "1c.review.difference": "1С и документы оплаты расходятся",
        "1c.review.difference.do": "Сделка показывает сумму из регистра 1С «Состояния заказов клиентов»; "
                                   "проверьте документы оплаты заказа в 1С.",
        "1c.review.hidden": "Часть документов оплаты скрыта правами 1С",
        "1c.review.hidden.do": "Пользователю OData не видны документы (ограничение доступа на уровне записей). "
                               "Дайте ему право читать документы оплат.",
        "1c.review.count": "Документов", "1c.review.paid_1c": "В 1С", "1c.review.paid_docs": "По документам",
        "1c.bind": "Связать с #{id}", "1c.bound": "Заказ связан со сделкой #{id}; он учтётся при следующей "
                                                  "синхронизации.",
        "1c.check_hidden": "Скрыто правами 1С документов оплаты за период чтения: {n}.",
        "1c.gate_scope": "Какие сделки", "1c.gate_scope.linked": "сделки, связанные с заказом 1С",
        "1c.gate_scope.all": "все сделки этой воронки (без номера заказа 1С сделку не закрыть)",
        "dispatch.title": "Диспетчеризация",
        "dispatch.tz": "Часовой пояс портала", "dispatch.hours": "Рабочее время (для всего портала)",
        "dispatch.start": "Начало", "dispatch.end": "Конец",
        "dispatch.break": "Перерыв", "dispatch.weekdays": "Рабочие дни",
        "dispatch.workers": "Индивидуальное время сотрудников",
        "dispatch.worker": "Сотрудник", "dispatch.add_worker": "Добавить сотрудника",
        "dispatch.remove": "Убрать",
        "dispatch.teams": "Бригады по воронкам",
        "dispatch.home": "Откуда выезжает (адрес)", "dispatch.home_placeholder": "город, улица, дом",
        "dispatch.home_found": "Найдено на карте:",
        "dispatch.handoff": "Монтаж после производства",
        "dispatch.handoff_when": "Когда создавать сделку монтажа",
        "dispatch.handoff.ready": "когда производство готово",
        "dispatch.handoff.paid": "когда заказ оплачен полностью",
        "dispatch.handoff.off": "не создавать",
        "picker.more": "Показаны первые 50 — уточните имя.",
        "visits.starts": "Откуда начинается маршрут дня (адрес)", "visits.starts_add": "Добавить сотрудника",
        "dispatch.team.measurements": "Замеры", "dispatch.team.production": "Производство",
        "dispatch.team.installation": "Монтаж",
        "weekdays": "Пн,Вт,Ср,Чт,Пт,Сб,Вс",
        "visits.title": "Посещения",
        "visits.repeat_days": "За сколько дней до даты визита «Повторный визит» возвращается в работу (N)",
        "visits.overdue_days": "Через сколько дней «Просрочено» становится «Визит не состоялся» (M)",
        "visits.work_days": "За сколько дней до даты визита «Черновик» сам переходит в «Взял в работу»",
        "visits.period": "Период «посещена» на карте компаний",
        "visits.period.month": "текущий месяц", "visits.period.quarter": "текущий квартал",
        "visits.period.year": "текущий год", "visits.period.days": "последние N дней",
        "visits.period_days": "дней",
        "visits.popup": "Поля компании во всплывающем окне карты (до 8)",
        "roles.title": "Роли в приложении",
        "roles.note": "Роли действуют со следующего открытия приложения: тот, кто сейчас работает в нём, "
                      "получит новые права, когда откроет приложение заново.",
        "roles.default": "Администраторы портала всегда администраторы приложения; сотрудник без роли "
                         "(ни своей, ни отдела) — выездной сотрудник.",
        "roles.help": "Что может каждая роль",
        "roles.assigned": "Назначенные роли",
        "roles.empty": "Ролей пока не назначено: все, кроме администраторов портала, — выездные сотрудники.",
        "roles.kind.user": "Сотрудник", "roles.kind.department": "Отдел",
        "roles.find_person": "Добавить сотрудника",
        "roles.find_placeholder": "начните вводить имя",
        "roles.searching": "Ищем…", "roles.no_match": "Никого не нашли.",
        "roles.add_department": "Добавить отдел", "roles.choose_department": "— выберите отдел —",
        "roles.add": "Добавить", "roles.remove": "Убрать",
        "roles.unticked": "Строка без отмеченных ролей при сохранении удаляется.",
        "links.title": "Ссылки для телефона",
        "links.note": "Сотрудник сам создаёт ссылку на своей странице визитов; отозванная ссылка сразу "
                      "перестаёт открываться.",
        "links.person": "Сотрудник", "links.label": "Подпись", "links.created": "Создана",
        "links.last_used": "Последний вход", "links.state": "Состояние",
        "links.active": "действует", "links.revoked": "отозвана", "links.never": "не открывалась",
        "links.revoke": "Отозвать", "links.revoke_confirm": "Ссылка перестанет открываться. Отозвать?",
        "links.revoked_done": "Ссылка отозвана.", "links.empty": "Ссылок пока нет.",
        "domains.title": "Разделы приложения на этом портале",
        "domains.note": "Отключённый раздел перестаёт работать только на этом портале: его роботы отвечают, "
                        "что раздел отключён, события и расписание для него не обрабатываются. "
                        "Данные в Битрикс24 остаются; включите раздел снова — и он продолжит работу.",
        "domains.save": "Сохранить", "domains.saved": "Сохранено.",
    },
    "en": {
        "hub.title": "Application pages",
        "hub.open": "Open",
        "hub.opening": "Opening…",
        "hub.no_bx24": "Open the app from Bitrix24: its pages open inside the portal.",
        "install.title": "Installation",
        "install.state.done": "The application is installed and ready.",
        "install.state.queued": "The installation is waiting to start…",
        "install.state.running": "Installing",
        "install.state.failed": "The installation did not finish.",
        "install.needs_reinstall": "The application lost access to the portal: re-install it "
                                   "(Applications → b24app → Reinstall).",
        "install.retry": "Retry the installation",
        "install.admin_only": "A portal administrator can retry the installation.",
        "settings.title": "Settings (administrators only)",
        "save": "Save", "saved": "Saved.", "saving": "Saving…", "error": "Error",
        "loading": "Loading…", "not_allowed": "Access denied: a portal administrator changes the settings.",
        "1c.title": "1C connection",
        "1c.base_url": "OData publication URL (…/odata/standard.odata)",
        "1c.username": "Login", "1c.password": "Password",
        "1c.password_keep": "stored — leave empty to keep it",
        "1c.password_none": "not set yet",
        "1c.profile": "1C configuration", "1c.tz": "1C time zone",
        "1c.profile_check": "after saving, press \"Check connection\"",
        "1c.interval": "Sync interval, s", "1c.lookback_days": "Read payments of the last, days",
        "1c.reconcile_hours": "Reconcile open deals with 1C's register every, hours",
        "1c.check": "Check connection", "1c.checking": "Checking the 1C connection…",
        "1c.check_ok": "The connection works: 1C answers and its OData composition has everything needed.",
        "1c.check_bad": "1C cannot be reached or its OData composition lacks something:",
        "1c.saved_problems": "Saved, but the check found problems:",
        "1c.pipelines": "Pipelines",
        "1c.gate": "Do not close a deal until it is paid",
        "1c.gate_enabled": "On", "1c.auto_forward": "Move on once paid",
        "1c.af_from": "from stage", "1c.af_to": "to stage", "1c.af_none": "do not move",
        "1c.status": "Last sync",
        "1c.last_ok": "Last successful", "1c.last_error": "Last error", "1c.never": "not yet",
        "1c.counts": "Payments read: {read}, changed: {changed}, deals updated: {updates}, comments: {comments}, "
                     "to review: {review}",
        "1c.push": "Notifications from 1C (HTTP service)", "1c.push_url": "URL for 1C",
        "1c.push_rotate": "Issue a new secret",
        "1c.push_confirm": "The old secret will stop working. Issue a new one?",
        "1c.push_secret": "New secret (shown once — copy it into the 1C settings):",
        "1c.review": "Payments to review", "1c.review_empty": "No payments need attention.",
        "1c.review.unmatched": "No deal carries this order number",
        "1c.review.unmatched.do": "Set the 1C order number on the right deal (field “1C order number”).",
        "1c.review.ambiguous": "The order matches several deals",
        "1c.review.ambiguous.do": "Keep the 1C order number on one deal only.",
        "1c.review.unallocated": "A payment without an order",
        "1c.review.unallocated.do": "In 1C, name the order in the payment document.",
        "1c.review.currency": "Payments in several currencies",
        "1c.review.currency.do": "Check the currency of this order's payments in 1C.",
        "1c.review.order": "Order", "1c.review.payment": "Payment", "1c.review.deals": "Deals",
        "1c.review.ambiguous.do2": "One deal per order: choose the deal the order belongs to; the other deals "
                                   "are not paid by it.",
        "1c.review.duplicate": "The order is bound to another deal already",
        "1c.review.duplicate.do": "The order's payments count for the bound deal only. If the order belongs to "
                                  "another deal, choose it.",
        "1c.review.difference": "1C and the payment documents differ",
        "1c.review.difference.do": "The deal shows the amount of 1C's order-state register; check the order's "
                                   "payment documents in 1C.",
        "1c.review.hidden": "Some payment documents are hidden by 1C's access rights",
        "1c.review.hidden.do": "The OData user cannot see these documents (row-level security). Give it the "
                               "right to read payment documents.",
        "1c.review.count": "Documents", "1c.review.paid_1c": "In 1C", "1c.review.paid_docs": "By documents",
        "1c.bind": "Bind to #{id}", "1c.bound": "The order is bound to deal #{id}; the next sync applies it.",
        "1c.check_hidden": "Payment documents of the read period hidden by 1C's access rights: {n}.",
        "1c.gate_scope": "Which deals", "1c.gate_scope.linked": "deals linked to a 1C order",
        "1c.gate_scope.all": "all deals of this pipeline (a deal without a 1C order number cannot be closed)",
        "dispatch.title": "Dispatch",
        "dispatch.tz": "Portal time zone", "dispatch.hours": "Working hours (portal-wide)",
        "dispatch.start": "Start", "dispatch.end": "End",
        "dispatch.break": "Break", "dispatch.weekdays": "Working days",
        "dispatch.workers": "Per-worker hours",
        "dispatch.worker": "Worker", "dispatch.add_worker": "Add a worker",
        "dispatch.remove": "Remove",
        "dispatch.teams": "Teams per pipeline",
        "dispatch.home": "Home base (address)", "dispatch.home_placeholder": "city, street, house",
        "dispatch.home_found": "Found on the map:",
        "dispatch.handoff": "Installation after production",
        "dispatch.handoff_when": "When to create the installation deal",
        "dispatch.handoff.ready": "when production is ready",
        "dispatch.handoff.paid": "when the order is paid in full",
        "dispatch.handoff.off": "never",
        "picker.more": "The first 50 are shown: type more of the name.",
        "visits.starts": "Where each person's day route starts (address)", "visits.starts_add": "Add a person",
        "dispatch.team.measurements": "Measurements", "dispatch.team.production": "Production",
        "dispatch.team.installation": "Installation",
        "weekdays": "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
        "visits.title": "Visits",
        "visits.repeat_days": "Days before the visit date a “Repeat visit” returns to work (N)",
        "visits.overdue_days": "Days after which “Overdue” becomes “Visit failed” (M)",
        "visits.work_days": "Days before the visit date a “Draft” moves to “In work” by itself",
        "visits.period": "“Visited” period on the company map",
        "visits.period.month": "this month", "visits.period.quarter": "this quarter",
        "visits.period.year": "this year", "visits.period.days": "the last N days",
        "visits.period_days": "days",
        "visits.popup": "Company fields in the map popup (up to 8)",
        "roles.title": "App roles",
        "roles.note": "Roles apply from the next time a person opens the app: whoever is working in it now "
                      "gets the new rights on reopening it.",
        "roles.default": "Portal administrators are always app administrators; a person with no role (neither "
                         "their own nor their department's) is a field worker.",
        "roles.help": "What each role may do",
        "roles.assigned": "Assigned roles",
        "roles.empty": "No roles assigned yet: everyone but portal administrators is a field worker.",
        "roles.kind.user": "Person", "roles.kind.department": "Department",
        "roles.find_person": "Add a person",
        "roles.find_placeholder": "start typing a name",
        "roles.searching": "Searching…", "roles.no_match": "Nobody found.",
        "roles.add_department": "Add a department", "roles.choose_department": "— choose a department —",
        "roles.add": "Add", "roles.remove": "Remove",
        "roles.unticked": "A row with no role ticked is dropped on saving.",
        "links.title": "Phone links",
        "links.note": "People make their own link on their visits page; a revoked link stops opening at once.",
        "links.person": "Person", "links.label": "Label", "links.created": "Created",
        "links.last_used": "Last opened", "links.state": "State",
        "links.active": "active", "links.revoked": "revoked", "links.never": "never opened",
        "links.revoke": "Revoke", "links.revoke_confirm": "The link will stop opening. Revoke it?",
        "links.revoked_done": "The link was revoked.", "links.empty": "No phone links yet.",
        "domains.title": "Parts of the app on this portal",
        "domains.note": "A part switched off stops only on this portal: its robots answer that it is off, and "
                        "its events and scheduled work are not processed. Data in Bitrix24 stays; switch it "
                        "on again and it carries on.",
        "domains.save": "Save", "domains.saved": "Saved.",
    },
}


# What each action of b24app.roles.PERMISSIONS lets a person do, in words: the roles section explains every
# role from these, so a new action needs its words here (tests/app/test_access_api.py checks it).
ACTIONS: dict[str, dict[str, str]] = {
    "ru": {
        "settings": "настройки приложения, роли, оплаты 1С на разбор, повтор установки",
        "install.errors": "ошибки установки",
        "dispatch": "назначать, переназначать и переносить заявки",
        "jobs.all": "вся карта заказов, день и маршрут любого сотрудника",
        "desk": "рабочее место диспетчера: звонки и обращения",
        "reports": "отчёты и их выгрузка в CSV",
        "visits.team": "визиты, маршруты и статистика других сотрудников",
        "visits.own": "свои визиты, карточка компании, страница на телефоне",
        "jobs.own": "свои заявки и маршрут на карте",
        "calc.view": "расчёты, варианты и работы по сделкам, каталог услуг",
        "calc.request": "отправлять сделку на расчёт, отвечать инженеру, выбирать вариант и заказывать работы",
        "calc.engineer": "брать расчёты в работу, задавать вопросы, готовить варианты, выполнять работы",
        "service.view": "реестр заказ-нарядов, карточки техники, статистика причин",
        "service.engineer": "блок инженера в заказ-наряде: запчасти, ячейка с инструментом, запрос заводу",
        "service.head": "выбирать механика, переносить заказ-наряды, вносить акт рекламации",
        "service.mechanic": "заказ-наряды, где он механик: завершение, акт, моточасы, фото (и с телефона)",
    },
    "en": {
        "settings": "app settings, roles, 1C payments to review, install retry",
        "install.errors": "installation errors",
        "dispatch": "assign, reassign and reschedule jobs",
        "jobs.all": "the whole orders map, anyone's day and route",
        "desk": "the dispatcher's desk: callers and service requests",
        "reports": "reports and their CSV",
        "visits.team": "other people's visits, day routes and stats",
        "visits.own": "own visits, company card, phone page",
        "jobs.own": "own jobs and route on the map",
        "calc.view": "calculations, variants and works of deals, the service catalog",
        "calc.request": "send a deal for calculation, answer the engineer, pick a variant, order work",
        "calc.engineer": "take calculations, ask questions, build variants, carry out the work",
        "service.view": "the work-order registry, machine cards, reason statistics",
        "service.engineer": "the engineer's block of a work order: parts, tool cell, manufacturer request",
        "service.head": "pick the mechanic, reschedule work orders, attach the reclamation act",
        "service.mechanic": "work orders he is the mechanic of: done, act, hours, photos (also from the phone)",
    },
}


# The domains (b24app/domains.py) as an administrator reads them on the main page.
DOMAINS: dict[str, dict[str, tuple[str, str]]] = {
    "ru": {
        "maps": ("Карта заказов и диспетчеризация", "замеры и монтажи на карте, назначение сотрудников, маршруты"),
        "visits": ("Визиты", "визиты к компаниям: канбан, карта компаний, маршрут дня, календарь"),
        "sync_1c": ("Оплаты из 1С", "оплаты по номеру заказа в сделке, закрытие только оплаченных сделок"),
        "calcwork": ("Расчёты и работы", "заявки инженерам на расчёт и заказ работ из сделки"),
        "desk": ("Сервис: рабочее место диспетчера", "клиент по номеру телефона, техника и гарантия, обращения"),
        "reports": ("Отчёты", "план и факт, визиты по регионам, выгрузка"),
        "rules": ("Правила сделок", "напоминания в рабочих днях, эскалации, задачи, номера заказов, запрет возврата"),
    },
    "en": {
        "maps": ("Orders map and dispatch", "measurements and installations on a map, assigning workers, routes"),
        "visits": ("Visits", "visits to companies: kanban, company map, day route, calendar"),
        "sync_1c": ("Payments from 1C", "payments by order number in the deal, only paid deals closed"),
        "calcwork": ("Calculations and work", "requests to engineers for a calculation and ordering work"),
        "desk": ("Service desk", "the caller by phone number, their machines and warranty, requests"),
        "reports": ("Reports", "plan vs fact, visits by region, export"),
        "rules": ("Deal rules", "business-day reminders, escalations, tasks, order numbers, no moving stages back"),
    },
}


def domain_words(lang: str | None, name: str) -> dict[str, str]:
    """A domain's title and what it does; a domain without words here (a plugin shipped separately) is
    shown by its name."""
    title, description = DOMAINS[lang_of(lang)].get(name, (name, ""))
    return {"title": title, "description": description}


def role_help(lang: str | None) -> list[dict]:
    """Each assignable role with what it may do, read from b24app.roles.PERMISSIONS (the table the server
    checks), so the explanation cannot drift from the rule."""
    lang = lang_of(lang)
    words = ACTIONS[lang]
    return [{"key": r, "name": app_roles.NAMES[lang][r],
             "may": "; ".join(words[a] for a, who in app_roles.PERMISSIONS.items() if r in who)}
            for r in app_roles.ASSIGNABLE]


def strings(lang: str | None) -> dict[str, str]:
    base = dict(STRINGS["en"])
    base.update(STRINGS[lang_of(lang)])
    return base
