"""The calculation → work flow's words in the portal's language (ru / en): refusals, notifications and
timeline lines. ``text(lang, key, **values)``."""
from __future__ import annotations

from b24app.i18n import lang_of

RU = {
    # refusals
    "deal_not_found": "Сделка {deal} не найдена.",
    "calc_not_found": "Расчёт {calc} не найден.",
    "work_not_found": "Работа {work} не найдена.",
    "open_calc": "По сделке {deal} уже есть открытый расчёт {calc}.",
    "no_target": "Укажите, кому отправить расчёт: инженера, отдел или общую очередь.",
    "bad_target": "Получатель расчёта не найден: {what}.",
    "not_engineer": "Сотрудник {user} не инженер: назначьте ему роль «инженер» в настройках приложения.",
    "not_in_group": "Этот расчёт адресован другому инженеру или отделу — взять его может только получатель.",
    "taken_by_other": "Расчёт уже в работе у другого инженера.",
    "not_yours": "Расчёт в работе у другого инженера.",
    "wrong_stage": "Сейчас это действие недоступно: расчёт на этапе «{stage}».",
    "question_pending": "Уже есть вопрос без ответа — дождитесь ответа менеджера.",
    "no_question": "Вопросов без ответа нет.",
    "empty_text": "Напишите текст.",
    "no_variants": "Добавьте хотя бы один вариант расчёта.",
    "bad_variant": "Вариант: {what}.",
    "variant_not_found": "Вариант {variant} не найден.",
    "not_manager": "Выбрать вариант и заказать работы может менеджер сделки.",
    "out_of_range": "Сумма строки «{line}» {amount} вне допустимого диапазона {low}–{high} (±{pct} %): "
                    "нужно согласование руководителя.",
    "not_done": "Расчёт ещё не завершён.",
    "not_chosen": "Сначала выберите вариант расчёта.",
    "open_work": "По сделке уже заказана работа {work}.",
    "work_not_yours": "Эта работа назначена другому инженеру.",
    "work_wrong_stage": "Сейчас это действие недоступно: работа на этапе «{stage}».",
    "bad_lines": "Выберите услуги из выбранного варианта.",
    "no_act": "Приложите акт или отчёт о выполненных работах.",
    # notifications (im.notify.system.add) and timeline lines
    "n.requested": "Новый запрос на расчёт по сделке «{title}»: {url}",
    "n.taken": "Инженер {who} взял расчёт по сделке «{title}» в работу.",
    "n.question": "Вопрос инженера по сделке «{title}»: {text}",
    "n.answer": "Менеджер ответил по сделке «{title}»: {text}",
    "n.done": "Расчёт по сделке «{title}» готов: вариантов {count}, от {low} до {high} ₽.",
    "n.work_ordered": "Заказаны работы по сделке «{title}»: {url}",
    "n.work_accepted": "Инженер {who} принял работы по сделке «{title}».",
    "n.work_on_site": "Инженер {who} выехал на объект по сделке «{title}».",
    "n.work_done": "Работы по сделке «{title}» завершены. Акт приложен к работе.",
    "t.requested": "Отправлено на расчёт ({target}). {comment}",
    "t.taken": "Расчёт взят в работу: {who}.",
    "t.handover": "{who} передал расчёт: {target}. Причина: {reason}",
    "t.question": "Вопрос инженера ({who}): {text}",
    "t.answer": "Ответ менеджера ({who}): {text}",
    "t.done": "Расчёт завершён: {variants}.",
    "t.chosen": "Выбран вариант «{name}» на {total} ₽.",
    "t.work_ordered": "Заказаны работы: {lines}. Договор: {contract}.",
    "t.work_stage": "Работа: {stage} ({who}).",
    "t.proposal": "Коммерческое предложение: {name}.",
    "t.act": "Акт выполненных работ: {name}.",
    "target.user": "инженер {name}", "target.department": "отдел {name}", "target.queue": "общая очередь",
    "no_contract": "не указан",
}
EN = {
    "deal_not_found": "Deal {deal} was not found.",
    "calc_not_found": "Calculation {calc} was not found.",
    "work_not_found": "Work {work} was not found.",
    "open_calc": "Deal {deal} already has an open calculation {calc}.",
    "no_target": "Say who calculates: an engineer, a department or the shared queue.",
    "bad_target": "The calculation's recipient was not found: {what}.",
    "not_engineer": "User {user} is not an engineer: give them the engineer role in the app's settings.",
    "not_in_group": "This calculation is addressed to another engineer or department — only they can take it.",
    "taken_by_other": "Another engineer has already taken this calculation.",
    "not_yours": "Another engineer is working on this calculation.",
    "wrong_stage": "Not possible now: the calculation is at the stage \"{stage}\".",
    "question_pending": "A question is still unanswered — wait for the manager's answer.",
    "no_question": "There is no unanswered question.",
    "empty_text": "Write some text.",
    "no_variants": "Add at least one variant.",
    "bad_variant": "Variant: {what}.",
    "variant_not_found": "Variant {variant} was not found.",
    "not_manager": "Only the deal's manager picks a variant and orders work.",
    "out_of_range": "The amount of line \"{line}\" {amount} is outside the allowed range {low}–{high} (±{pct} %): "
                    "it needs the head's approval.",
    "not_done": "The calculation is not done yet.",
    "not_chosen": "Pick a variant first.",
    "open_work": "Work {work} has already been ordered for this deal.",
    "work_not_yours": "This work is assigned to another engineer.",
    "work_wrong_stage": "Not possible now: the work is at the stage \"{stage}\".",
    "bad_lines": "Pick services of the chosen variant.",
    "no_act": "Attach the act or a report of the work done.",
    "n.requested": "New calculation request for the deal \"{title}\": {url}",
    "n.taken": "Engineer {who} took the calculation of the deal \"{title}\".",
    "n.question": "The engineer asks about the deal \"{title}\": {text}",
    "n.answer": "The manager answered about the deal \"{title}\": {text}",
    "n.done": "The calculation of the deal \"{title}\" is ready: {count} variant(s), {low} to {high} RUB.",
    "n.work_ordered": "Work ordered for the deal \"{title}\": {url}",
    "n.work_accepted": "Engineer {who} accepted the work of the deal \"{title}\".",
    "n.work_on_site": "Engineer {who} is on site for the deal \"{title}\".",
    "n.work_done": "The work of the deal \"{title}\" is finished. The act is attached to the work.",
    "t.requested": "Sent for calculation ({target}). {comment}",
    "t.taken": "Calculation taken: {who}.",
    "t.handover": "{who} handed the calculation over to {target}. Reason: {reason}",
    "t.question": "Engineer's question ({who}): {text}",
    "t.answer": "Manager's answer ({who}): {text}",
    "t.done": "Calculation done: {variants}.",
    "t.chosen": "Variant \"{name}\" chosen, {total} RUB.",
    "t.work_ordered": "Work ordered: {lines}. Contract: {contract}.",
    "t.work_stage": "Work: {stage} ({who}).",
    "t.proposal": "Commercial proposal: {name}.",
    "t.act": "Act of completed work: {name}.",
    "target.user": "engineer {name}", "target.department": "department {name}", "target.queue": "shared queue",
    "no_contract": "none",
}


def text(lang: str | None, key: str, **values) -> str:
    words = EN if lang_of(lang) == "en" else RU
    return words[key].format(**values)


# the deal tab's words (templates/calcwork/deal.html, static/calcwork/deal.js)
UI = {
    "ru": {"title": "Расчёт и работы", "none": "Расчёта по сделке ещё нет.", "send": "Отправить на расчёт",
           "comment": "Что рассчитать", "stage": "Этап", "question": "Вопрос инженера", "answer": "Ответить",
           "your_answer": "Ваш ответ", "variants": "Варианты расчёта", "no_variants": "Инженер ещё готовит варианты.",
           "name": "Услуга", "qty": "Кол-во", "coef": "Коэф.", "price": "Цена", "amount": "Сумма",
           "total": "Итого", "margin": "Маржа", "choose": "Выбрать этот вариант", "chosen": "Выбран",
           "order": "Заказать работы", "contract": "Договор", "works": "Работы", "error": "Ошибка",
           "stages": {"new": "Запрос на расчёт", "in_work": "Взят в работу", "info_requested": "Запрошена информация",
                      "done": "Расчёт завершён", "cancelled": "Отменён", "accepted": "Принята в работу",
                      "on_site": "Выезд на объект"}},
    "en": {"title": "Calculation and work", "none": "This deal has no calculation yet.", "send": "Send for calculation",
           "comment": "What to calculate", "stage": "Stage", "question": "The engineer asks", "answer": "Answer",
           "your_answer": "Your answer", "variants": "Variants", "no_variants": "The engineer is preparing variants.",
           "name": "Service", "qty": "Qty", "coef": "Coef.", "price": "Price", "amount": "Amount",
           "total": "Total", "margin": "Margin", "choose": "Choose this variant", "chosen": "Chosen",
           "order": "Order work", "contract": "Contract", "works": "Work", "error": "Error",
           "stages": {"new": "Calculation requested", "in_work": "In work", "info_requested": "Information requested",
                      "done": "Calculation done", "cancelled": "Cancelled", "accepted": "Accepted",
                      "on_site": "On site"}},
}


def ui(lang: str | None) -> dict:
    return UI["en" if lang_of(lang) == "en" else "ru"]
