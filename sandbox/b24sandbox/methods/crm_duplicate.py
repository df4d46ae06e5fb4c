"""crm.duplicate.findbycomm — contacts/companies (leads: the sandbox keeps none) holding a phone or e-mail.

Fidelity (docs api-reference/crm/duplicates/crm-duplicate-find-by-comm.md): params ``type`` (PHONE|EMAIL,
required), ``values`` (string[], required, at most 20), ``entity_type`` (LEAD|CONTACT|COMPANY, optional:
all types). Answer ``{"CONTACT": [ids], "COMPANY": [ids]}`` with only the types that matched, or ``[]``
(PHP's empty array) when nothing did. Errors: 400 with the message as the ``error`` code, like the docs
show. Phones match the way the portal's duplicate index stores them: digits only, the extension dropped,
a Russian ``8``/bare 10-digit number read as ``7…`` (``+7 (916) 123-45-67`` == ``8 916 1234567``);
e-mails match case-insensitively. 20 or more matches of one type stop the search (later types absent).
"""
from __future__ import annotations

import re

from .. import perms
from ..db import COMPANY, CONTACT, LEAD
from ..registry import B24Fault, method
from .crm_legacy import arg

MAX_VALUES = 20
TYPES = {"CONTACT": CONTACT, "COMPANY": COMPANY}


def phone_key(value: str) -> str:
    """The duplicate index's form of a phone: digits without the extension, Russian trunk prefix as 7."""
    v = re.split(r"(?i)\s*(?:доб\.?|ext\.?|x|#)\s*\d+\s*$", str(value).strip())[0]
    d = "".join(ch for ch in v if ch.isdigit())
    if len(d) == 11 and d[0] == "8":
        d = "7" + d[1:]
    elif len(d) == 10 and d[0] == "9":
        d = "7" + d
    return d


def _key(kind: str, value: str) -> str:
    return phone_key(value) if kind == "PHONE" else str(value).strip().lower()


@method("crm.duplicate.findbycomm", scope="crm")
def findbycomm(ctx, params):
    # src CCrmDuplicateRestProxy: refused only when none of leads/contacts/companies is readable; the ids
    # found are not filtered per item (perms.py) — reading them is what a restricted user is refused.
    if not any(perms.can_read_any(ctx, t) for t in (LEAD, CONTACT, COMPANY)):
        raise perms.legacy_denied()
    kind = str(arg(params, "type") or "").upper()
    if not kind:
        raise B24Fault("Communication type is not defined", "Parameter 'type' is required.", 400)
    if kind not in ("PHONE", "EMAIL"):
        raise B24Fault(f"Communication type '{kind}' is not supported in current context", "", 400)
    values = arg(params, "values")
    if isinstance(values, dict):
        values = list(values.values())
    if isinstance(values, str):
        values = [values]
    if not values:
        raise B24Fault("Communication values is not defined", "Parameter 'values' is required.", 400)
    if len(values) > MAX_VALUES:
        raise B24Fault("Too many communication values", f"The maximum number of values is {MAX_VALUES}.", 400)
    wanted = {k for k in (_key(kind, v) for v in values) if k}
    entity = str(arg(params, "entity_type") or "").upper()
    if entity and entity not in ("LEAD", "CONTACT", "COMPANY"):
        raise B24Fault(f"Entity type '{entity}' is not supported in current context", "", 400)
    types = [entity] if entity else ["LEAD", "CONTACT", "COMPANY"]
    db = ctx.portal.db
    out: dict[str, list[int]] = {}
    with db.lock:
        for name in types:
            etid = TYPES.get(name)
            if etid is None:
                continue                                  # no leads in the sandbox
            ids = sorted(int(r["ID"]) for r in db.table_for(etid).rows.values()
                         if any(_key(kind, m.get("VALUE", "")) in wanted for m in r.get(kind) or []))
            if ids:
                out[name] = ids
            if len(ids) >= MAX_VALUES:
                break                                     # 20+ of one type: the later types are not searched
    return out or []
