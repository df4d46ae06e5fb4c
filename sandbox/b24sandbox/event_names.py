"""Which events exist and which scope each needs (reference §2.3): ``event.bind`` rejects an event the
app's scopes do not cover with ERROR_EVENT_NOT_FOUND, and ``events`` lists what is available."""
from __future__ import annotations

import re

_CRM_ENTITIES = ["LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE"]
EVENTS: dict[str, str | None] = {}
for _e in _CRM_ENTITIES:
    for _op in ("ADD", "UPDATE", "DELETE"):
        EVENTS[f"ONCRM{_e}{_op}"] = "crm"
    for _op in ("ADD", "UPDATE", "DELETE", "SETENUMVALUES"):
        EVENTS[f"ONCRM{_e}USERFIELD{_op}"] = "crm"
for _name in ("DEALMOVETOCATEGORY", "DYNAMICITEMADD", "DYNAMICITEMUPDATE", "DYNAMICITEMDELETE",
              "TYPEADD", "TYPEUPDATE", "TYPEDELETE", "ACTIVITYADD", "ACTIVITYUPDATE", "ACTIVITYDELETE",
              "TIMELINECOMMENTADD", "TIMELINECOMMENTUPDATE", "TIMELINECOMMENTDELETE",
              "REQUISITEADD", "REQUISITEUPDATE", "REQUISITEDELETE", "BANKDETAILADD", "BANKDETAILUPDATE",
              "BANKDETAILDELETE", "ADDRESSREGISTER", "ADDRESSUNREGISTER"):
    EVENTS[f"ONCRM{_name}"] = "crm"
for _op in ("ADD", "UPDATE", "DELETE"):
    EVENTS[f"ONCALENDARENTRY{_op}"] = "calendar"
    EVENTS[f"ONCALENDARSECTION{_op}"] = "calendar"
    EVENTS[f"ONTASK{_op}"] = "task"
EVENTS.update({
    "ONVOXIMPLANTCALLINIT": "telephony", "ONVOXIMPLANTCALLSTART": "telephony",
    "ONVOXIMPLANTCALLEND": "telephony", "ONEXTERNALCALLSTART": "telephony",
    "ONEXTERNALCALLBACKSTART": "telephony", "ONUSERADD": "user",
    "ONAPPINSTALL": None, "ONAPPUPDATE": None, "ONAPPUNINSTALL": None, "ONAPPPAYMENT": None,
    "ONAPPTEST": None, "ONAPPMETHODCONFIRM": None, "ONOFFLINEEVENT": None,
})
# Events that cannot be bound offline (src throws ERROR_ARGUMENT for them).
NO_OFFLINE = {"ONAPPINSTALL", "ONAPPUPDATE", "ONAPPUNINSTALL", "ONAPPPAYMENT", "ONAPPTEST",
              "ONAPPMETHODCONFIRM", "ONOFFLINEEVENT"}
_DYNAMIC = re.compile(r"^ONCRMDYNAMICITEM(ADD|UPDATE|DELETE)_(\d+)$")


def scope_of(event: str) -> tuple[bool, str | None]:
    """(known, scope) for an upper-cased event name; per-SPA events ONCRMDYNAMICITEMADD_<id> are crm."""
    if event in EVENTS:
        return True, EVENTS[event]
    if _DYNAMIC.match(event):
        return True, "crm"
    return False, None


def available(scopes) -> list[str]:
    return sorted(e for e, s in EVENTS.items() if s is None or s in scopes)
