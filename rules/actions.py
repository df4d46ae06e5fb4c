"""What a rule does, through the portal client with the app's own token: notify (im.notify.system.add),
create a task (tasks.task.add bound to the deal), move the stage, set a field, assign a number, revert a
move. Each action is one step of the ledger's claim (rules/ledger.py): a completed step is never repeated.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from b24app import guards
from b24app import roles as app_roles
from b24app.i18n import lang_of

from .calendar import BusinessCalendar
from .ledger import RulesLedger
from .model import DEFAULT_FORMAT, Rule, format_number, text

log = logging.getLogger("b24app.rules")


class ActionError(Exception):
    """An action that cannot run with what the deal holds (no one to notify, no stage to go back to)."""


@dataclass
class Context:
    """What the actions of one evaluation share: the portal client, our ledger, the clock and caches."""
    services: object
    member_id: str
    client: object
    ledger: RulesLedger
    calendar: BusinessCalendar
    now: datetime
    lang: str = "ru"
    _heads: dict = field(default_factory=dict)
    _departments: dict | None = None
    calls: list = field(default_factory=list)
    _unfinished: set | None = None
    # the scheduler's pass: notifications of many occurrences go out together in batches of 50 commands
    # (rules/engine.py: flush); None = each action calls the portal itself (events)
    outbox: list | None = None

    def unfinished(self, rule_id: str, entity_id: int, occurrence: str) -> bool:
        """An occurrence started and not finished (failed, or its process died): it resumes even if the
        deal no longer meets the rule's conditions — its own first action may be why (a stage move)."""
        if self._unfinished is None:
            self._unfinished = self.ledger.unfinished()
        return (rule_id, int(entity_id), occurrence[:200]) in self._unfinished

    # --- people -------------------------------------------------------------------------------------
    def _department_tree(self) -> dict[int, dict]:
        if self._departments is None:
            out, start = {}, 0
            while start is not None and start < 100_000:
                env = self.client.call_raw("department.get", {"start": start})
                out.update({int(d["ID"]): d for d in env.get("result") or []})
                start = env.get("next")
            self._departments = out
        return self._departments

    def prefetch_heads(self, user_ids) -> None:
        """The heads of many people at once: one batch of user.get per 50 people not known yet (a pass reads
        thousands of deals of a few dozen managers)."""
        missing = sorted({int(u) for u in user_ids if u and int(u) not in self._heads})
        if not missing:
            return
        results = self.client.batch_many([("user.get", {"FILTER": {"ID": u}}) for u in missing])
        for u, r in zip(missing, results):
            if r.ok:
                self._head_from(u, r.result or [])

    def head_of(self, user_id: int) -> int | None:
        """The head of the user's department; for a head himself, the head of the department above."""
        if user_id in self._heads:
            return self._heads[user_id]
        return self._head_from(user_id, self.client.call("user.get", {"FILTER": {"ID": int(user_id)}}) or [])

    def _head_from(self, user_id: int, users: list) -> int | None:
        deps = [int(d) for d in (users[0].get("UF_DEPARTMENT") or [])] if users else []
        tree, head = self._department_tree(), None
        for dep in deps[:1]:
            d = tree.get(dep)
            for _ in range(20):
                if d is None:
                    break
                h = int(d.get("UF_HEAD") or 0)
                if h and h != int(user_id):
                    head = h
                    break
                d = tree.get(int(d.get("PARENT") or 0))
        self._heads[user_id] = head
        return head

    def role_members(self, role: str) -> list[int]:
        doc = app_roles.load(self.services.store.kv, self.member_id)
        return sorted(int(u) for u, rs in doc["users"].items() if role in rs)

    def recipients(self, spec, deal: dict) -> list[int]:
        if spec == "responsible":
            uid = int(deal.get("ASSIGNED_BY_ID") or 0)
            return [uid] if uid else []
        if spec == "head":
            uid = int(deal.get("ASSIGNED_BY_ID") or 0)
            head = self.head_of(uid) if uid else None
            return [head] if head else []
        if "user" in spec:
            return [int(spec["user"])]
        if "role" in spec:
            return self.role_members(spec["role"])
        raw = deal.get(spec["field"])
        vals = raw if isinstance(raw, list) else [raw]
        return [int(v) for v in vals if str(v or "").isdigit() and int(v) > 0]

    def people(self, specs, deal: dict) -> list[int]:
        out: list[int] = []
        for s in specs or []:
            out += [u for u in self.recipients(s, deal) if u not in out]
        return out


UPDATE = {"deal": "crm.deal.update", "lead": "crm.lead.update"}
FORM_SENDERS: dict = {}          # form name → sender(ctx, rule, deal, action, extra); rules/nps.py adds "nps"
STAGE_FIELD = {"deal": "STAGE_ID", "lead": "STATUS_ID"}
TASK_REF = {"deal": "D_", "lead": "L_"}


def render(template, ctx: Context, deal: dict, extra: dict) -> str:
    s = text(template, ctx.lang)
    values = {"ID": deal.get("ID"), "TITLE": deal.get("TITLE") or "", "STAGE": deal.get("STAGE_ID") or "",
              "COMMENTS": deal.get("COMMENTS") or "", **extra}
    for k, v in values.items():
        s = s.replace("{" + k + "}", str(v if v is not None else ""))
    return s


BATCHED = ("notify", "move_stage", "set_field")     # actions that are portal commands only (the pass batches them)


def command_calls(ctx: Context, rule: Rule, action: dict, deal: dict, extra: dict) -> list[tuple[str, dict]]:
    """The portal commands of a notify, move_stage or set_field action, to be sent in a batch in order."""
    entity, deal_id = rule.entity, int(deal["ID"])
    if action["type"] == "notify":
        return notify_calls(ctx, rule, action, deal, extra)
    if action["type"] == "move_stage":
        if deal.get("STAGE_ID") == action["stage"]:
            return []
        return [(UPDATE[entity], {"id": deal_id, "fields": {STAGE_FIELD[entity]: action["stage"]}})]
    return [(UPDATE[entity], {"id": deal_id, "fields": {action["field"]: action["value"]}})]


def notify_calls(ctx: Context, rule: Rule, action: dict, deal: dict, extra: dict) -> list[tuple[str, dict]]:
    """The im.notify.system.add commands of one notify action (ActionError: nobody to tell)."""
    users = ctx.people(action["to"], deal)
    if not users:
        raise ActionError(f"rule {rule.id}: nobody to notify for deal {int(deal['ID'])}")
    msg = render(action["message"], ctx, deal, extra)
    return [("im.notify.system.add", {"USER_ID": u, "MESSAGE": msg}) for u in users]


def run(ctx: Context, rule: Rule, action: dict, deal: dict, extra: dict) -> None:
    kind = action["type"]
    deal_id = int(deal["ID"])
    entity = rule.entity
    update = UPDATE[entity]
    if kind == "notify":
        calls = notify_calls(ctx, rule, action, deal, extra)
        results = ctx.client.batch_many(calls)
        failed = [r.error for r in results if not r.ok]
        if failed:
            raise failed[0]
        ctx.calls.append(("notify", deal_id, [c[1]["USER_ID"] for c in calls]))
    elif kind == "task":
        responsible = ctx.people([action.get("responsible", "responsible")], deal)
        if not responsible:
            raise ActionError(f"rule {rule.id}: no responsible person for the task on deal {deal_id}")
        fields = {"TITLE": render(action["title"], ctx, deal, extra), "RESPONSIBLE_ID": responsible[0],
                  "UF_CRM_TASK": [f"{TASK_REF[entity]}{deal_id}"]}
        if action.get("description"):
            fields["DESCRIPTION"] = render(action["description"], ctx, deal, extra)
        if action.get("deadline_field"):
            base = _moment(deal.get(action["deadline_field"]))
            if base is None:
                raise ActionError(f"rule {rule.id}: {action['deadline_field']} of {entity} {deal_id} is empty")
            due = ctx.calendar.add(base, action["deadline"]) if action.get("deadline") else base
            fields["DEADLINE"] = due.isoformat()
        elif action.get("deadline"):
            fields["DEADLINE"] = ctx.calendar.add(ctx.now, action["deadline"]).isoformat()
        for key in ("auditors", "accomplices"):
            if action.get(key):
                fields[key.upper()] = [u for u in ctx.people(action[key], deal) if u != responsible[0]]
        task = (ctx.client.call("tasks.task.add", {"fields": fields}) or {}).get("task") or {}
        items = [render(i, ctx, deal, extra) for i in action.get("checklist") or []]
        if items and task.get("id"):
            results = ctx.client.batch_many([("task.checklistitem.add", {"TASKID": int(task["id"]),
                                                                         "FIELDS": {"TITLE": t, "SORT_INDEX": k}})
                                             for k, t in enumerate(items)])
            failed = [r.error for r in results if not r.ok]
            if failed:
                raise failed[0]
        ctx.calls.append(("task", deal_id, fields["RESPONSIBLE_ID"]))
    elif kind == "move_stage":
        if deal.get("STAGE_ID") != action["stage"]:
            ctx.client.call(update, {"id": deal_id, "fields": {STAGE_FIELD[entity]: action["stage"]}})
    elif kind == "set_field":
        ctx.client.call(update, {"id": deal_id, "fields": {action["field"]: action["value"]}})
    elif kind == "assign_number":
        fmt = action.get("format") or DEFAULT_FORMAT
        counter = action.get("counter") or "order"
        year = ctx.calendar.local(ctx.now).year
        got = ctx.ledger.assign_number(counter, "deal", deal_id, year, lambda y, n: format_number(fmt, y, n))
        extra["number"] = got["value"]
        if str(deal.get(action["field"]) or "") != got["value"]:
            ctx.client.call("crm.deal.update", {"id": deal_id, "fields": {action["field"]: got["value"]}})
    elif kind == "revert_move":
        back = extra.get("revert_to")
        if not back:
            raise ActionError(f"rule {rule.id}: no earlier stage known for deal {deal_id}")
        # the one guard mechanism (b24app/guards.py): a move refused by several guards goes back once; the
        # notification saying why is the rule's next action (a notify with {reason})
        raw = {**deal, STAGE_FIELD[entity]: deal.get("STAGE_ID")}
        guards.revert(ctx.services, ctx.member_id, client=ctx.client, entity=entity, row=raw, back=back,
                      guard=f"rules.{rule.id}", users=[], message="")
        ctx.calls.append(("revert", deal_id, back))
    elif kind == "copy_to_category":
        extra["copy_id"] = copy_deal(ctx, rule, deal, action)
    elif kind == "send_form":
        sender = FORM_SENDERS.get(action["form"])
        if sender is None:
            raise ActionError(f"rule {rule.id}: no form {action['form']!r}")
        sender(ctx, rule, deal, action, extra)
    else:                                    # the schema admits no other
        raise ActionError(f"unknown action {kind!r}")


COPIED = ("TITLE", "ASSIGNED_BY_ID", "COMPANY_ID", "CONTACT_ID", "OPPORTUNITY", "CURRENCY_ID")


def copy_deal(ctx: Context, rule: Rule, deal: dict, action: dict) -> int:
    """A copy of the deal in another pipeline (the NPS pipeline of seed 004): its title, responsible,
    client and amount, linked back by ORIGIN_ID = the source deal's id. Once per source deal and target
    pipeline: a copy made before (a retried step) is found by ORIGIN_ID and reused."""
    src = int(deal["ID"])
    found = ctx.client.call("crm.deal.list", {"filter": {"CATEGORY_ID": int(action["category"]),
                                                         "ORIGIN_ID": f"b24app:rules:{src}"}, "select": ["ID"]})
    if found:
        return int(found[0]["ID"])
    full = ctx.client.call("crm.deal.get", {"id": src}) or {}
    fields = {k: full.get(k) for k in COPIED if full.get(k) not in (None, "")}
    fields.update({"CATEGORY_ID": int(action["category"]), "ORIGIN_ID": f"b24app:rules:{src}",
                   "ORIGINATOR_ID": "b24app"})
    if action.get("stage"):
        fields["STAGE_ID"] = action["stage"]
    new_id = int(ctx.client.call("crm.deal.add", {"fields": fields}))
    ctx.calls.append(("copy", src, new_id))
    return new_id


def _moment(value):
    from datetime import UTC
    if not value:
        return None
    try:
        d = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def portal_lang(services, member_id: str) -> str:
    p = services.store.portals.get(member_id)
    return lang_of(p.lang if p else "ru")
