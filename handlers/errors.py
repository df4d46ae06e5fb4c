"""The one table from an exception to the JSON answer every edge gives: ``{error, error_description}`` and
its HTTP status.

Why one table: domain packages raise errors that say what went wrong (no job, no free window, a bad
setting) and never choose an HTTP status; the web layer decides that here, once, for every endpoint.
An exception that is not in the table is a bug: it is not caught, so it is a 500 a test notices — never
a 400 that blames the caller (a ``KeyError`` from our own code used to read as "bad request").
"""
from __future__ import annotations

from b24app import roles as app_roles
from b24app.i18n import lang_of
from b24app.errors import (
    B24Error,
    InstallNotConfirmed,
    InstallRefused,
    InstallRequestInvalid,
    SettingsError,
    UserSessionExpired,
    said,
    text_of,
)
from calcwork.errors import ApprovalRequired, CalcConflict, CalcInvalid, CalcNotFound, NotInGroup, NotPaid
from desk.phone import PhoneError
from desk.claims import NotYours
from desk.history import MachineNotFound
from desk.intake import IntakeError
from desk.mechanics import MechanicBusy
from field import actions as field_actions
from field import day as field_day
from desk.service_request import RequestError
from desk.workorder import OrderError, OrderNotFound
from install.registry import NotInstalled
from maps import assign, booking_rules, swap
from maps.stats import BadRange
from reports.period import ReportError
from visits.act import PhotoTooLarge
from visits.create import CreateError
from visits.read import NotFound as VisitNotFound


class BadInput(ValueError):
    """The request itself is malformed: a parameter missing, not a number or a date, a body that is not a
    JSON object. Raised by handlers/inputs.py while parsing, before any domain code runs."""


class RoleRequired(Exception):
    """The person's app role does not allow the action (b24app.roles); the text says which role would."""

    def __init__(self, action: str, lang: str):
        super().__init__(app_roles.needed_text(action, lang))
        self.action = action


SESSION_EXPIRED = said("your Bitrix24 sign-in for this app has expired: reopen the app in Bitrix24",
                       "вход в приложение через Битрикс24 устарел: откройте приложение в Битрикс24 заново")

# exception class → (HTTP status, error code); code None: the exception's own ``error`` (install refusals
# keep their precise codes). Looked up along the exception's MRO, so a subclass may have its own row.
TABLE: dict[type[BaseException], tuple[int, str | None]] = {
    BadInput: (400, "BAD_REQUEST"),
    BadRange: (400, "BAD_REQUEST"),
    ReportError: (400, "BAD_REQUEST"),
    PhoneError: (400, "BAD_REQUEST"),
    RequestError: (400, "BAD_REQUEST"),
    IntakeError: (400, "BAD_REQUEST"),
    OrderError: (400, "BAD_REQUEST"),
    OrderNotFound: (404, "NOT_FOUND"),
    MachineNotFound: (404, "NOT_FOUND"),
    MechanicBusy: (409, "MECHANIC_BUSY"),
    NotYours: (403, "NOT_YOURS"),
    app_roles.RolesError: (400, "BAD_REQUEST"),
    CreateError: (400, "BAD_REQUEST"),
    PhotoTooLarge: (413, "PHOTO_TOO_LARGE"),
    SettingsError: (400, "BAD_SETTINGS"),
    VisitNotFound: (404, "NOT_FOUND"),
    RoleRequired: (403, "ROLE_REQUIRED"),
    NotInstalled: (409, "NOT_INSTALLED"),
    UserSessionExpired: (401, "SESSION_EXPIRED"),
    # dispatch (maps/assign.py, maps/swap.py)
    assign.NotAJob: (404, "NOT_A_JOB"),
    assign.NoCoordinates: (409, "NO_COORDINATES"),
    assign.NotInTeam: (400, "NOT_IN_TEAM"),
    assign.NoWindow: (409, "NO_WINDOW"),
    assign.BadDays: (400, "BAD_DAYS"),
    assign.PortalRefused: (502, "PORTAL_REFUSED"),
    booking_rules.InThePast: (409, "BOOKING_IN_PAST"),
    booking_rules.OutsideHours: (409, "OUTSIDE_HOURS"),
    booking_rules.WorkerBusy: (409, "WORKER_BUSY"),      # the map asks to confirm, then sends override: true
    swap.NotAssigned: (409, "NOT_ASSIGNED"),
    swap.SameWorker: (400, "SAME_WORKER"),
    # the calculation → work flow (calcwork/)
    CalcInvalid: (400, "BAD_REQUEST"),
    CalcNotFound: (404, "NOT_FOUND"),
    CalcConflict: (409, "CALC_CONFLICT"),
    NotInGroup: (403, "NOT_IN_GROUP"),
    ApprovalRequired: (409, "APPROVAL_REQUIRED"),
    NotPaid: (409, "NOT_PAID"),
    # the worker's phone (field/)
    field_actions.BadAction: (400, "BAD_REQUEST"),
    field_actions.FileTooLarge: (413, "FILE_TOO_LARGE"),
    field_actions.ActionConflict: (409, "ACTION_ID_REUSED"),
    field_actions.ActionBusy: (409, "ACTION_IN_PROGRESS"),
    field_day.NotYours: (403, "NOT_YOUR_JOB"),
    field_day.NotFound: (404, "NOT_FOUND"),
    # the installer call (b24app/install_flow.py)
    InstallRequestInvalid: (400, None),
    InstallNotConfirmed: (401, None),
    InstallRefused: (403, None),
}

PORTAL_DENIED = {"ACCESS_DENIED", "INSUFFICIENT_SCOPE", "ERROR_ACCESS_DENIED"}


def answer(exc: BaseException, lang: str | None = "en") -> tuple[int, str, str] | None:
    """``(status, error, description)`` for an exception the table knows, else None (let it be a 500).
    The description is in ``lang`` (the portal user's LANG) when the message was raised ``said(en, ru)``."""
    for cls in type(exc).__mro__:
        if cls in TABLE:
            status, code = TABLE[cls]
            if isinstance(exc, UserSessionExpired):
                return status, code, SESSION_EXPIRED.ru if lang_of(lang) == "ru" else str(SESSION_EXPIRED)
            return status, code or getattr(exc, "error", "ERROR"), text_of(exc, lang)
    if isinstance(exc, B24Error):
        return portal_refusal(exc, lang)
    return None


def known(exc: BaseException, lang: str | None = "en") -> tuple[int, str, str]:
    """``answer(exc)`` for an edge that catches a family of errors itself; one the table does not know is
    raised again (a bug, a 500)."""
    found = answer(exc, lang)
    if found is None:
        raise exc
    return found


def portal_refusal(exc: B24Error, lang: str | None = "en") -> tuple[int, str, str]:
    """The portal refused a call made for a person: their CRM rights (403), a legacy "Not found" (404),
    anything else the portal's failure (502). Said in the person's language; the portal's own words kept."""
    ru = lang_of(lang) == "ru"
    if exc.code.upper() in PORTAL_DENIED or (not exc.code and "access denied" in exc.description.lower()):
        # crm.deal/company/contact.* refuse with an empty code and "Access denied." (HTTP 400)
        return 403, "PORTAL_ACCESS_DENIED", (
            f"Битрикс24 отказал: ваши права в CRM этого не позволяют ({exc.code})" if ru
            else f"Bitrix24 refused: your CRM permissions do not allow this ({exc.code})")
    if not exc.code and "not found" in exc.description.lower():       # legacy crm.*.get of no such id
        return 404, "NOT_FOUND", ("Битрикс24: не найдено" if ru else exc.description)
    return 502, "PORTAL_ERROR", (f"Битрикс24 ответил ошибкой: {exc.code}: {exc.description}" if ru
                                 else f"{exc.code}: {exc.description}")
