"""NPS after a won deal (seed 004, «Контроль качества»): the rule's ``copy_to_category`` puts a copy of the deal
into the NPS pipeline, ``send_form`` gives the client a one-answer public link ``/f/nps/<token>`` — a short
mobile-first form (manager, manufacturing, delivery, installation, 1–5, and a comment) with no Bitrix24 login.

* The link: the portal's messenger/SMS is not driven by the app yet, so the deal's responsible gets the
  link with a request to send it to the client (im.notify.system.add) — the path the issue names for a
  portal without a connected channel.
* One answer per link: the answer is claimed with one UPDATE … WHERE answered_at IS NULL; a second post
  gets "already answered" and changes nothing.
* All fives → the page invites the client to leave a public review (the portal's review link: kv
  ``rules.nps`` {"review_url"} over the rule's own); anything else → the NPS deal moves to the negative
  stage and the responsible's head is notified with the answers. The portal writes run after the answer is
  stored; if the portal is unreachable they are retried by the rules' periodic pass (``apply_pending``).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa

from b24app.errors import said

from . import actions
from .actions import ActionError, Context, render
from .calendar import BusinessCalendar
from .ledger import RulesLedger, metadata

log = logging.getLogger("b24app.rules.nps")
QUESTIONS = ("manager", "manufacturing", "delivery", "installation")
SETTINGS_KEY = "rules.nps"
MAX_COMMENT = 2000

t_forms = sa.Table(
    "rules_forms", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True), sa.Column("member_id", sa.String(64)),
    sa.Column("form", sa.String(16)), sa.Column("deal_id", sa.BigInteger), sa.Column("source_id", sa.BigInteger),
    sa.Column("responsible_id", sa.BigInteger), sa.Column("lang", sa.String(8)), sa.Column("title", sa.String(255)),
    sa.Column("positive_stage", sa.String(64)), sa.Column("negative_stage", sa.String(64)),
    sa.Column("review_url", sa.String(500)), sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("answered_at", sa.DateTime(timezone=True)), sa.Column("answers", sa.JSON),
    sa.Column("result", sa.String(16)), sa.Column("applied_at", sa.DateTime(timezone=True)))


class FormError(ValueError):
    """An answer that cannot be taken (a mark out of 1–5, a comment too long): the page says it, 400."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(services, token: str) -> str:
    return f"{services.settings.public_url}/f/nps/{token}"


def issue(engine, member_id: str, *, deal_id: int, source_id: int, responsible_id: int | None, lang: str,
          title: str, positive_stage: str | None, negative_stage: str | None, review_url: str | None) -> str:
    token = secrets.token_urlsafe(24)
    with engine.begin() as c:
        c.execute(t_forms.insert().values(
            token_hash=_hash(token), member_id=member_id, form="nps", deal_id=int(deal_id), source_id=int(source_id),
            responsible_id=int(responsible_id) if responsible_id else None, lang=lang, title=title[:255],
            positive_stage=positive_stage, negative_stage=negative_stage, review_url=review_url,
            created_at=datetime.now(UTC)))
    return token


def get(engine, token: str) -> dict | None:
    if not (16 <= len(token or "") <= 100):
        return None
    with engine.connect() as c:
        r = c.execute(sa.select(t_forms).where(t_forms.c.token_hash == _hash(token))).first()
    return dict(r._mapping) if r else None


def send_form(ctx, rule, deal: dict, action: dict, extra: dict) -> None:
    """The rule's ``send_form`` step: a link for the deal's NPS copy (or the deal), given to the responsible
    to send to the client. A step retried after a failure reuses the link it issued."""
    target = int(extra.get("copy_id") or deal["ID"])
    with ctx.services.store.engine.connect() as c:
        have = c.execute(sa.select(t_forms.c.token_hash).where(
            t_forms.c.member_id == ctx.member_id, t_forms.c.deal_id == target, t_forms.c.form == "nps")).first()
    responsible = int(deal.get("ASSIGNED_BY_ID") or 0) or None
    if responsible is None:
        raise ActionError(f"rule {rule.id}: deal {deal['ID']} has no responsible to send the form link")
    if have is not None:
        return                     # issued by an earlier attempt that then failed to notify: see below
    token = issue(ctx.services.store.engine, ctx.member_id, deal_id=target, source_id=int(deal["ID"]),
                  responsible_id=responsible, lang=ctx.lang, title=str(deal.get("TITLE") or ""),
                  positive_stage=action.get("positive_stage"), negative_stage=action.get("negative_stage"),
                  review_url=action.get("review_url"))
    extra["link"] = link(ctx.services, token)
    msg = render(action.get("message") or {
        "ru": "Сделка «{TITLE}» [{ID}] завершена. Отправьте клиенту ссылку на короткую анкету качества "
              "(один ответ по ссылке): {link}",
        "en": "Deal “{TITLE}” [{ID}] is won. Send the client this link to a short quality survey "
              "(one answer per link): {link}"}, ctx, deal, extra)
    ctx.client.call("im.notify.system.add", {"USER_ID": responsible, "MESSAGE": msg})
    ctx.calls.append(("form", int(deal["ID"]), target))


def parse_answers(form: dict) -> dict:
    out = {}
    for q in QUESTIONS:
        raw = str(form.get(q) or "").strip()
        if raw not in ("1", "2", "3", "4", "5"):
            raise FormError(said(f"{q}: choose a mark from 1 to 5", f"{q}: выберите оценку от 1 до 5"))
        out[q] = int(raw)
    comment = str(form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        raise FormError(said(f"comment: at most {MAX_COMMENT} characters",
                             f"комментарий: не больше {MAX_COMMENT} символов"))
    out["comment"] = comment
    return out


def answer(services, token: str, answers: dict) -> dict | None:
    """Store the one answer of this link. None = already answered (nothing changed). Then the portal writes."""
    row = get(services.store.engine, token)
    if row is None:
        return None
    result = "positive" if all(answers[q] == 5 for q in QUESTIONS) else "negative"
    with services.store.engine.begin() as c:
        done = c.execute(t_forms.update().where(t_forms.c.token_hash == row["token_hash"],
                                                t_forms.c.answered_at.is_(None))
                         .values(answered_at=datetime.now(UTC), answers=answers, result=result))
    if done.rowcount != 1:
        return None
    row.update(answers=answers, result=result)
    try:
        apply(services, row)
    except Exception as exc:  # noqa: BLE001 - the answer is kept; the periodic pass applies it later
        log.warning("nps %s: deal %s answer not applied yet: %s", row["member_id"], row["deal_id"], exc)
    return row


def review_url(services, row: dict) -> str | None:
    conf = services.store.kv.get(row["member_id"], SETTINGS_KEY) or {}
    return conf.get("review_url") or row.get("review_url")


def _text(row: dict, lang: str) -> str:
    a = row["answers"]
    names = {"ru": {"manager": "Работа менеджера", "manufacturing": "Качество изготовления",
                    "delivery": "Качество доставки", "installation": "Качество монтажа", "comment": "Комментарий"},
             "en": {"manager": "Manager", "manufacturing": "Manufacturing", "delivery": "Delivery",
                    "installation": "Installation", "comment": "Comment"}}[lang if lang == "en" else "ru"]
    lines = [f"{names[q]}: {a[q]}" for q in QUESTIONS]
    if a.get("comment"):
        lines.append(f"{names['comment']}: {a['comment']}")
    return "\n".join(lines)


def apply(services, row: dict) -> None:
    """The NPS deal to its positive/negative stage with the answers; a negative one told to the head."""
    client = services.client(row["member_id"])
    lang = row.get("lang") or "ru"
    answers = _text(row, lang)
    fields = {"COMMENTS": answers}
    stage = row.get("positive_stage") if row["result"] == "positive" else row.get("negative_stage")
    if stage:
        fields["STAGE_ID"] = stage
    client.call("crm.deal.update", {"id": int(row["deal_id"]), "fields": fields})
    if row["result"] == "negative" and row.get("responsible_id"):
        ctx = Context(services=services, member_id=row["member_id"], client=client,
                      ledger=RulesLedger(services.store.engine, row["member_id"]), calendar=BusinessCalendar(),
                      now=datetime.now(UTC), lang=lang)
        head = ctx.head_of(int(row["responsible_id"])) or int(row["responsible_id"])
        head_msg = (f"Отрицательный отзыв NPS по сделке «{row['title']}» [{row['source_id']}]:\n{answers}"
                    if lang != "en" else
                    f"Negative NPS answer for deal “{row['title']}” [{row['source_id']}]:\n{answers}")
        client.call("im.notify.system.add", {"USER_ID": head, "MESSAGE": head_msg})
    with services.store.engine.begin() as c:
        c.execute(t_forms.update().where(t_forms.c.token_hash == row["token_hash"])
                  .values(applied_at=datetime.now(UTC)))


def apply_pending(services, member_id: str) -> int:
    """Answers stored while the portal could not be written (the periodic pass)."""
    with services.store.engine.connect() as c:
        rows = [dict(r._mapping) for r in c.execute(sa.select(t_forms).where(
            t_forms.c.member_id == member_id, t_forms.c.answered_at.is_not(None), t_forms.c.applied_at.is_(None)))]
    for r in rows:
        apply(services, r)
    return len(rows)


actions.FORM_SENDERS["nps"] = send_form
