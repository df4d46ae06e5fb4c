"""Robots of the calculation → work flow (seed 002): a deal's automation can take every step the buttons
take, through the same functions (calcwork/flow.py, calcwork/work.py):

    b24app_send_to_calculation {engineer, comment}    b24app_order_work {engineer, contract, comment}
    b24app_calc_take {engineer}                        b24app_calc_answer {manager, text}
    b24app_calc_done {engineer}                        b24app_calc_choose {manager, variant}
    b24app_work_accept {engineer}                      b24app_work_finish {engineer, report}

A robot that names a person acts *as far as that person may*: the person must hold the app role the
button needs (``calc.engineer`` / ``calc.request``, b24app/roles.py) and pass the step's own check (the
calculation's group or engineer, the deal's manager) — a robot cannot lift someone over the trust model.
The writes run with the app's token (a robot has no person's token). Every step is idempotent (a repeated
call answers the state reached), and the runtime remembers each answer per event_token; what a call
creates carries ``xmlId = b24app:<event_token>``.
"""
from __future__ import annotations

from b24app import roles as app_roles
from b24app.robot_runtime import RobotCall, RobotError

from . import flow, work
from .context import Actor, deal_record, roles_of
from .errors import CalcError
from .strings import text


def _app_actor(call: RobotCall) -> Actor:
    portal = call.services.store.portals.get(call.member_id)
    return Actor(call.services, call.member_id, None, getattr(portal, "lang", "ru") or "ru")


def _as(call: RobotCall, key: str, need: str) -> Actor:
    """The person the robot names in ``key``, with their app roles — refused unless they hold ``need``."""
    app = _app_actor(call)
    uid = int(call.prop(key))
    roles = roles_of(app, uid)
    if not app_roles.allowed(roles, need):
        names = app_roles.NAMES["en" if app.lang == "en" else "ru"]
        raise RobotError(text(app.lang, "robot_role", user=uid,
                              roles=", ".join(names[r] for r in app_roles.PERMISSIONS[need])))
    return Actor(call.services, call.member_id, uid, app.lang, roles)


def _step(fn):
    """A step's refusal (CalcError: wrong stage, not in the group, ...) is the robot's answer, not a retry."""
    def run(call: RobotCall):
        try:
            return fn(call)
        except CalcError as exc:
            raise RobotError(str(exc)) from None
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


def _calc_of(actor: Actor, deal_id: int, which: str = "open") -> int:
    drec = deal_record(actor, deal_id)
    cid = drec.get(which) or (drec["calcs"][-1] if drec.get("calcs") else None)
    if not cid:
        raise RobotError(text(actor.lang, "robot_no_calc"))
    return int(cid)


def _work_of(actor: Actor, deal_id: int) -> int:
    drec = deal_record(actor, deal_id)
    wid = drec.get("open_work") or (drec["works"][-1] if drec.get("works") else None)
    if not wid:
        raise RobotError(text(actor.lang, "robot_no_work"))
    return int(wid)


@_step
def send_to_calculation(call: RobotCall):
    deal = call.deal()
    engineer = _as(call, "engineer", "calc.engineer").user_id
    res = flow.request(_app_actor(call), int(deal["ID"]), {"kind": "user", "id": int(engineer)},
                       call.prop("comment") or "", xml=call.xml_id())
    return {"calculation_id": res["id"]}, \
        f"calculation {res['id']} created for deal {deal['ID']}, engineer {engineer}"


@_step
def order_work(call: RobotCall):
    deal = call.deal()
    engineer = _as(call, "engineer", "calc.engineer").user_id
    res = work.order(_app_actor(call), int(deal["ID"]), None, call.prop("contract") or "", int(engineer),
                     call.prop("comment") or "", xml=call.xml_id())
    return {"work_id": res["id"]}, f"work {res['id']} created for deal {deal['ID']}, engineer {engineer}"


@_step
def take(call: RobotCall):
    deal = call.deal()
    actor = _as(call, "engineer", "calc.engineer")
    res = flow.take(actor, _calc_of(actor, int(deal["ID"])))
    return {"calculation_id": res["id"], "stage": res["stage"]}, \
        f"calculation {res['id']} of deal {deal['ID']} taken by user {actor.user_id}"


@_step
def answer(call: RobotCall):
    deal = call.deal()
    actor = _as(call, "manager", "calc.request")
    res = flow.answer(actor, _calc_of(actor, int(deal["ID"])), call.prop("text") or "")
    return {"calculation_id": res["id"], "stage": res["stage"]}, \
        f"calculation {res['id']} of deal {deal['ID']}: answered by user {actor.user_id}"


@_step
def done(call: RobotCall):
    deal = call.deal()
    actor = _as(call, "engineer", "calc.engineer")
    res = flow.done(actor, _calc_of(actor, int(deal["ID"])))
    return {"calculation_id": res["id"], "stage": res["stage"]}, \
        f"calculation {res['id']} of deal {deal['ID']} done by user {actor.user_id}"


@_step
def choose(call: RobotCall):
    deal = call.deal()
    actor = _as(call, "manager", "calc.request")
    cid = _calc_of(actor, int(deal["ID"]), "done")
    wanted = str(call.prop("variant") or "").strip()
    rec = flow.record(actor, cid)
    variant = next((v for v in rec["variants"] if wanted in (v["id"], v["name"])), None)
    res = flow.choose(actor, cid, variant["id"] if variant else wanted)
    return {"calculation_id": res["id"], "total": float(res["chosen"]["total"])}, \
        f"deal {deal['ID']}: variant {res['chosen']['variant']} chosen by user {actor.user_id}"


@_step
def work_accept(call: RobotCall):
    deal = call.deal()
    actor = _as(call, "engineer", "calc.engineer")
    res = work.step(actor, _work_of(actor, int(deal["ID"])), "accept")
    return {"work_id": res["id"], "stage": res["stage"]}, \
        f"work {res['id']} of deal {deal['ID']} accepted by user {actor.user_id}"


@_step
def work_finish(call: RobotCall):
    deal = call.deal()
    actor = _as(call, "engineer", "calc.engineer")
    res = work.step(actor, _work_of(actor, int(deal["ID"])), "finish", call.prop("report") or "")
    return {"work_id": res["id"], "stage": res["stage"]}, \
        f"work {res['id']} of deal {deal['ID']} finished by user {actor.user_id}"
