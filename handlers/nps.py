"""The public NPS form a rule sends after a won deal (rules/nps.py): no Bitrix24 login — the link's secret is
the only key, one answer per link, mobile-first, in the portal's language.

    GET  /f/nps/<token>     the form (or "already answered", or 404 for an unknown link)
    POST /f/nps/<token>     marks 1–5 for manager, manufacturing, delivery, installation + a comment;
                            400 with the form again for a bad mark, 409 when the link was already used
"""
from __future__ import annotations

from flask import Blueprint, render_template, request

from b24app import websafety
from b24app.errors import in_lang
from b24app.i18n import lang_of
from rules import nps

from .common import app_services

bp = Blueprint("rules_nps", __name__)

TEXT = {
    "ru": {"title": "Оцените нашу работу", "intro": "Сделка «{title}». Поставьте оценку от 1 до 5 — это займёт минуту.",
           "manager": "Работа менеджера", "manufacturing": "Качество изготовления",
           "delivery": "Качество доставки", "installation": "Качество монтажа",
           "comment": "Что нам улучшить?", "send": "Отправить", "thanks": "Спасибо за оценку!",
           "review": "Нам очень приятно! Расскажите о нас другим — оставьте отзыв:", "review_link": "Оставить отзыв",
           "sorry": "Спасибо, что сказали честно. Руководитель уже получил ваш ответ и свяжется с вами.",
           "used": "По этой ссылке уже ответили. Спасибо!", "missing": "Ссылка не найдена."},
    "en": {"title": "Rate our work", "intro": "Deal “{title}”. Give a mark from 1 to 5 — it takes a minute.",
           "manager": "The manager", "manufacturing": "Manufacturing quality", "delivery": "Delivery quality",
           "installation": "Installation quality", "comment": "What should we improve?", "send": "Send",
           "thanks": "Thank you for rating us!", "review": "We are glad! Tell others about us — leave a review:",
           "review_link": "Leave a review",
           "sorry": "Thank you for your honesty. The head of sales has your answer and will contact you.",
           "used": "This link has already been answered. Thank you!", "missing": "This link does not exist."},
}


def _page(status: int, lang: str, **kw):
    websafety.frame_ancestors(websafety.SELF)
    t = TEXT[lang]
    return render_template("rules/nps.html", t=t, lang=lang, questions=nps.QUESTIONS,
                           s={"app_title": t["title"]}, **kw), status


@bp.get("/f/nps/<token>")
def nps_form(token: str):
    row = nps.get(app_services().store.engine, token)
    if row is None:
        return _page(404, lang_of(request.accept_languages.best_match(["ru", "en"]) or "ru"), state="missing")
    lang = lang_of(row.get("lang"))
    if row.get("answered_at"):
        return _page(409, lang, state="used")
    return _page(200, lang, state="form", title=row.get("title") or "", values={})


@bp.post("/f/nps/<token>")
def nps_answer(token: str):
    svc = app_services()
    row = nps.get(svc.store.engine, token)
    if row is None:
        return _page(404, "ru", state="missing")
    lang = lang_of(row.get("lang"))
    if row.get("answered_at"):
        return _page(409, lang, state="used")
    values = {k: str(request.form.get(k) or "")[:nps.MAX_COMMENT + 1] for k in (*nps.QUESTIONS, "comment")}
    try:
        answers = nps.parse_answers(values)
    except nps.FormError as exc:
        return _page(400, lang, state="form", title=row.get("title") or "", values=values,
                     error=in_lang(exc.args[0], lang))
    done = nps.answer(svc, token, answers)
    if done is None:
        return _page(409, lang, state="used")
    if done["result"] == "positive":
        return _page(200, lang, state="positive", review_url=nps.review_url(svc, done))
    return _page(200, lang, state="negative")
