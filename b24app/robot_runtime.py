"""The robot runtime: a robot call from the inbox → its domain's handler ``fn(call) -> (RETURN_VALUES,
log text)`` → the answer through ``bizproc.event.send`` (reference §4.3–4.4). The robots themselves live
in their domains (maps/robots.py, visits/robots.py, sync_1c/robots.py, calcwork/robots.py) and are
declared with ``registry.robot(code, fn)``.

Why an answer on every path: a robot with USE_SUBSCRIPTION=Y waits until it is answered, so a bad call
must still answer — with a LOG_MESSAGE the admin reads in the automation log — rather than hang the
deal's automation. A portal that refuses a write (4xx: ACCESS_DENIED, NOT_FOUND, a validation error)
will refuse it again, so that is answered at once as a robot error; only transient failures (no answer,
5xx, QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT) go back to the inbox for a retry, and when the inbox
gives up for good ``robot_gave_up`` still answers the workflow. An answer is remembered per
``event_token`` before it is sent (expired after ``ANSWER_DAYS`` by the ``install.robot_answers`` job),
so an inbox retry after a crash re-sends the same answer. Items a robot creates carry
``xmlId = b24app:<event_token>`` (``call.xml_id()``, b24app/idempotent.py), so a dropped connection on
``crm.item.add`` and the retry that follows make one item, not two.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from .errors import B24Error
from .i18n import lang_of
from .idempotent import xml_id
from .logsafe import scrub
from .registry import enabled

log = logging.getLogger("b24app.robots")
ANSWER_KEY = "robot_answer:"
ANSWER_DAYS = 30                      # remembered answers older than this are deleted (expire_answers)
# Portal answers that a retry may cure; every other portal error is final for this robot call.
TRANSIENT_CODES = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "TRANSPORT_ERROR", "INTERNAL_SERVER_ERROR",
                   "EXPIRED_TOKEN"}
TEXT = {
    "ru": {"error": "ошибка",
           "refused": "портал отклонил {what}: {code} {description} (HTTP {status}); повтор не поможет — "
                      "проверьте права и данные и запустите робота снова",
           "gave_up": "портал не ответил после нескольких попыток ({error}); робот завершён без результата — "
                      "запустите его снова",
           "unknown": "неизвестный робот {code!r}",
           "disabled": "раздел «{domain}» отключён на этом портале"},
    "en": {"error": "error",
           "refused": "the portal refused {what}: {code} {description} (HTTP {status}); a retry will not help — "
                      "check permissions and data, then run the robot again",
           "gave_up": "the portal did not answer after repeated attempts ({error}); the robot ended without a "
                      "result — run it again",
           "unknown": "unknown robot {code!r}",
           "disabled": "the {domain} part of the app is switched off on this portal"},
}


class RobotError(ValueError):
    """A bad robot call: the message goes to the robot's log, the robot gets no return values."""


@dataclass
class RobotCall:
    services: object
    member_id: str
    code: str
    payload: dict
    robot: dict                      # the app.json entry

    @property
    def client(self):
        return _NamedErrors(self.services.client(self.member_id))

    def document(self) -> tuple[str, int]:
        """``document_id[2]`` = "DEAL_12" / "COMPANY_5" / "DYNAMIC_128_7" → ("DEAL", 12)."""
        doc = self.payload.get("document_id")
        raw = str(doc[2] if isinstance(doc, list) and len(doc) > 2 else (doc or {}).get("2", "")
                  if isinstance(doc, dict) else doc or "")
        kind, _, num = raw.rpartition("_")
        if not kind or not num.isdigit():
            raise RobotError(f"unexpected document_id {raw!r}")
        return kind, int(num)

    def deal(self) -> dict:
        kind, did = self.document()
        if kind != "DEAL":
            raise RobotError(f"works on deals only, got {kind}_{did}")
        try:
            return self.client.call("crm.deal.get", {"id": did})
        except B24Error as exc:
            if not transient(exc):      # NOT_FOUND, ACCESS_DENIED: a retry reads the same answer
                raise RobotError(f"deal {did} cannot be read: {exc.description or exc.code}") from exc
            raise

    def prop(self, key: str):
        """A property converted to the manifest's type; '' and missing mean None."""
        spec = self.robot["properties"][key]
        value = (self.payload.get("properties") or {}).get(key)
        if isinstance(value, str) and value.strip().startswith("{="):
            value = None            # an expression the portal left unresolved (e.g. a robot-designer default)
        if spec.get("multiple"):
            items = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            out = [_convert(spec, key, v) for v in items if v not in (None, "")]
            if spec.get("required") and not out:
                raise RobotError(f"property {key!r} is required")
            return out
        out = None if value in (None, "", []) else _convert(spec, key, value)
        if out is None and spec.get("required"):
            raise RobotError(f"property {key!r} is required")
        return out

    def xml_id(self) -> str | None:
        """``b24app:<event_token>`` for what this call creates (None without a token: a plain add)."""
        token = str(self.payload.get("event_token") or "")
        return xml_id(token) if token else None


class _NamedErrors:
    """The portal client, with the failing method written onto its B24Error so a robot's error log can say
    which call the portal refused."""

    def __init__(self, client):
        self._client = client

    def call(self, method: str, params: dict | None = None):
        try:
            return self._client.call(method, params)
        except B24Error as exc:
            if not getattr(exc, "method", ""):
                exc.method = method
            raise

    def __getattr__(self, name):
        return getattr(self._client, name)


def transient(exc: B24Error) -> bool:
    """Worth a retry: no answer, a 5xx, the portal's request or operating-time limits. A 4xx other than
    those (ACCESS_DENIED, NOT_FOUND, a validation 400) fails the same way every time."""
    return (exc.status is None or exc.status >= 500 or exc.status == 429
            or exc.code.upper() in TRANSIENT_CODES)


def _convert(spec: dict, key: str, v):
    t = spec["type"]
    s = str(v).strip()
    try:
        if t == "user":
            return int(s.removeprefix("user_"))      # the portal sends users as "user_<id>"
        if t == "int":
            return int(s)
        if t == "double":
            return float(s.replace(",", "."))
        if t == "bool":
            return s.upper() in ("Y", "1", "TRUE")
        if t in ("date", "datetime"):
            for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
                try:
                    return datetime.strptime(s, fmt).isoformat()
                except ValueError:
                    pass
            return datetime.fromisoformat(s).isoformat()
        if t == "select" and s not in spec["options"]:
            raise ValueError(f"not one of {sorted(spec['options'])}")
    except ValueError as exc:
        raise RobotError(f"property {key!r}: {v!r} is not a valid {t} ({exc})") from None
    return s


def int_or_none(v):
    """A portal id field ("12", "0", "", None) → 12 or None."""
    try:
        return int(v) or None
    except (TypeError, ValueError):
        return None


# --- answers ------------------------------------------------------------------------------------------
def _lang(services, member_id: str) -> str:
    p = services.store.portals.get(member_id)
    return lang_of(p.lang if p else None)


def _spec(registry, code: str) -> dict:
    """The robot's declaration (properties, name): the domain's own, else app.json's; KeyError if none."""
    if code in registry.own_robot_specs:
        return registry.own_robot_specs[code]
    if registry.robot_specs is None:
        raise KeyError(code)
    return registry.robot_specs(code)


def _answer(lang: str, robot: dict | None, message: str, values: dict | None = None, error: bool = False) -> dict:
    """One answer's shape: the log line starts with the robot's name in the portal's language."""
    name = (robot or {}).get("name", {})
    head = f"b24app {name.get(lang) or name.get('en') or ''}".rstrip()
    text = f"{head}: {TEXT[lang]['error']}: {message}" if error else f"{head}: {message}"
    # the log lands in the portal's workflow log, readable by its users: no credential in it
    return {"values": dict(values or {}), "log": scrub(text), "at": time.time()}


def refused_text(lang: str, exc: B24Error) -> str:
    method = getattr(exc, "method", "")
    what = method or ("запрос" if lang == "ru" else "the request")
    return TEXT[lang]["refused"].format(what=what, code=exc.code or "-", description=exc.description,
                                        status=exc.status)


def _run(services, member_id: str, code: str, payload: dict, lang: str) -> dict:
    """Run the robot; returns its answer. Only transient portal failures raise (the inbox retries them)."""
    registry = services.registry
    try:
        robot = _spec(registry, code)
        declared = registry.robots[code]
    except KeyError:
        return _answer(lang, None, TEXT[lang]["unknown"].format(code=code), error=True)
    if not enabled(services.store, member_id, declared.domain):
        return _answer(lang, robot, TEXT[lang]["disabled"].format(domain=declared.domain), error=True)
    try:
        call = RobotCall(services, member_id, code, payload, robot)
        for key in robot["properties"]:     # every input checked before anything is touched
            call.prop(key)
        values, message = declared.fn(call)
        # A robot writes with the app's own token: the log line (and the workflow log, LOG_MESSAGE) say
        # which robot did it for which document, since the portal records the app as the author.
        log.info("robot %s on %s for %s (workflow %s): %s", code, member_id, payload.get("document_id"),
                 payload.get("workflow_id") or "-", message)
        return _answer(lang, robot, message, values)
    except (RobotError, *registry.final_robot_errors) as exc:
        log.warning("robot %s on %s: %s", code, member_id, exc)
        return _answer(lang, robot, str(exc), error=True)
    except B24Error as exc:
        if transient(exc):
            raise
        log.warning("robot %s on %s: portal refused %s: %s", code, member_id, getattr(exc, "method", "?"), exc)
        return _answer(lang, robot, refused_text(lang, exc), error=True)


def _send(services, member_id: str, payload: dict, answer: dict) -> None:
    """bizproc.event.send with the remembered answer. A refusal (a dead token, 403) cannot be cured by
    resending, so it is logged; a transient failure raises for the inbox's retry."""
    token = str(payload.get("event_token") or "")
    if not token or payload.get("use_subscription", "Y") == "N":
        return
    params = {"EVENT_TOKEN": token, "LOG_MESSAGE": answer["log"]}
    if answer["values"]:
        params["RETURN_VALUES"] = answer["values"]
    try:
        services.client(member_id).call("bizproc.event.send", params)
    except B24Error as exc:
        if transient(exc):
            raise
        log.warning("robot %s on %s: bizproc.event.send refused, answer dropped: %s",
                    payload.get("code"), member_id, exc)


def handle_robot(services, member_id: str, payload: dict) -> dict:
    """The inbox handler for every robot ("robot:*"): run it, answer via bizproc.event.send, return
    RETURN_VALUES. Transient portal failures propagate so the inbox retries; a bad call or a portal
    refusal is answered with its error."""
    token = str(payload.get("event_token") or "")
    code = str(payload.get("code") or "")
    kv = services.store.kv
    answer = kv.get(member_id, ANSWER_KEY + token) if token else None
    if answer is None:
        answer = _run(services, member_id, code, payload, _lang(services, member_id))
        if token:
            kv.set(member_id, ANSWER_KEY + token, answer)
    _send(services, member_id, payload, answer)
    return answer["values"]


def robot_gave_up(services, member_id: str, payload: dict, error: str) -> None:
    """The inbox's give-up for kind "robot": answer the workflow with an error (or with the answer
    already computed whose sending kept failing) so the automation moves on."""
    token = str(payload.get("event_token") or "")
    if not token:
        return
    kv = services.store.kv
    answer = kv.get(member_id, ANSWER_KEY + token)
    if answer is None:
        lang = _lang(services, member_id)
        code = str(payload.get("code") or "")
        try:
            robot = _spec(services.registry, code)
        except KeyError:
            robot = None
        answer = _answer(lang, robot, TEXT[lang]["gave_up"].format(error=error), error=True)
        kv.set(member_id, ANSWER_KEY + token, answer)
    log.warning("robot %s on %s given up (%s): answering with an error", payload.get("code"), member_id, error)
    _send(services, member_id, payload, answer)


def expire_answers(services, member_id: str, now: float | None = None) -> int:
    """Periodic "install.robot_answers": delete remembered robot answers older than ANSWER_DAYS (an inbox
    retry comes within hours, never a month later); an answer written before answers carried a time gets
    one now. Returns how many went."""
    now = time.time() if now is None else now
    cutoff = now - ANSWER_DAYS * 86400
    kv = services.store.kv
    gone = 0
    for key, value in kv.items(member_id).items():
        if not key.startswith(ANSWER_KEY):
            continue
        at = value.get("at") if isinstance(value, dict) else None
        if at is None:
            kv.set(member_id, key, {**(value if isinstance(value, dict) else {"values": {}, "log": ""}), "at": now})
        elif float(at) < cutoff:
            kv.delete(member_id, key)
            gone += 1
    if gone:
        log.info("portal %s: %d robot answer(s) older than %d days deleted", member_id, gone, ANSWER_DAYS)
    return gone
