"""Running an app's robot the way the portal does (reference §4.3; src bizproc/classes/general/restactivity.php,
b24pysdk oauth_workflow_data.py): a form-encoded POST to the robot's HANDLER with ``workflow_id``, ``code``,
``document_id[0..2]``, ``document_type[0..2]``, ``event_token``, ``properties[..]``, ``use_subscription``,
``timeout_duration``, ``ts`` and ``auth[...]`` carrying access AND refresh tokens of the robot's user.

``portal.db.robot_calls`` keeps every run; ``bizproc.event.send`` later attaches RETURN_VALUES /
LOG_MESSAGE to the call with the same event token (methods/bizproc.py).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

import requests

from .events import portal_form

DOC_CLASSES = {"DEAL": "CCrmDocumentDeal", "LEAD": "CCrmDocumentLead", "CONTACT": "CCrmDocumentContact",
               "COMPANY": "CCrmDocumentCompany", "QUOTE": "Bitrix\\Crm\\Integration\\BizProc\\Document\\Quote",
               "SMART_INVOICE": "Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice"}
DYNAMIC_CLASS = "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic"


@dataclass
class RobotCall:
    event_token: str
    client_id: str
    code: str
    workflow_id: str
    document_id: list
    document_type: list
    properties: dict
    handler: str
    form: list = field(default_factory=list)       # [(key, value)] exactly as posted
    status: int | None = None
    error: str | None = None
    answered: bool = False
    return_values: dict = field(default_factory=dict)
    log_messages: list = field(default_factory=list)
    ts: float = 0.0


def document_ids(document_id) -> tuple[list, list]:
    """``"DEAL_5"`` / ``["crm", "CCrmDocumentDeal", "DEAL_5"]`` / ``"DYNAMIC_128_7"`` → (document_id, document_type)."""
    if isinstance(document_id, (list, tuple)) and len(document_id) == 3:
        doc = [str(x) for x in document_id]
    else:
        doc_str = str(document_id)
        kind = doc_str.rsplit("_", 1)[0]
        cls = DYNAMIC_CLASS if kind.startswith("DYNAMIC_") else DOC_CLASSES.get(kind, "CCrmDocument" + kind.title())
        doc = ["crm", cls, doc_str]
    return doc, [doc[0], doc[1], doc[2].rsplit("_", 1)[0]]


def _sign(portal, payload: str) -> str:
    key = (portal.member_id or "sandbox").encode()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:32]


def verify_token(portal, token: str) -> bool:
    payload, _, sig = str(token or "").rpartition(".")
    return bool(payload) and hmac.compare_digest(_sign(portal, payload), sig)


def find_call(portal, token: str) -> RobotCall | None:
    return next((c for c in portal.db.robot_calls if c.event_token == token), None)


def run_robot(portal, client_id: str, code: str, document_id, properties: dict | None = None,
              user_id: int = 1, timeout_duration: int = 0, post: bool = True) -> str:
    """POST one robot execution to the app; returns the event token (the app answers with it)."""
    robot = portal.db.robots.get((client_id, code))
    if robot is None:
        raise KeyError(f"robot {code!r} of {client_id} is not registered on this portal")
    doc, doc_type = document_ids(document_id)
    workflow_id = secrets.token_hex(12)[:23]
    payload = f"{workflow_id}|A{secrets.token_hex(5)}_{secrets.randbelow(99999)}|{secrets.token_hex(8)}"
    token = f"{payload}.{_sign(portal, payload)}"
    props = {}
    for key, spec in (robot.get("PROPERTIES") or {}).items():
        props[key] = (spec or {}).get("Default", "") if isinstance(spec, dict) else ""
    props.update(properties or {})
    props = {k: ("" if v is None else v) for k, v in props.items()}
    auth_user = int(user_id or robot.get("AUTH_USER_ID") or 1)
    body = {"workflow_id": workflow_id, "code": code, "document_id": doc, "document_type": doc_type,
            "event_token": token, "properties": props,
            "use_subscription": "N" if robot.get("USE_SUBSCRIPTION") == "N" else "Y",
            "timeout_duration": int(timeout_duration), "ts": int(portal.clock.now()),
            "auth": portal.auth_block(client_id, auth_user, refresh=True)}
    call = RobotCall(token, client_id, code, workflow_id, doc, doc_type, props, robot["HANDLER"],
                     form=portal_form(body), ts=portal.clock.now())
    with portal.db.lock:
        portal.db.robot_calls.append(call)
    if post:
        try:
            r = requests.post(robot["HANDLER"], data=call.form, timeout=10, allow_redirects=False)
            call.status = r.status_code
        except requests.RequestException as exc:        # the queue logs and drops, no retries (§2.2)
            call.error = str(exc)
    return token
