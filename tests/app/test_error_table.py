"""One table turns every domain error into its HTTP answer (handlers/errors.py): each error class gets the
status and code below; domain errors carry no status of their own; an exception the table does not know
is a bug and a 500 — a ``KeyError`` from our own code is never a 400 that blames the caller."""
from __future__ import annotations

import time

import pytest
from flask import Blueprint

from b24app import roles as app_roles
from b24app import session as page_sessions
from b24app.app import create_app
from b24app.config import Settings
from b24app.errors import (
    B24Error,
    InstallNotConfirmed,
    InstallRefused,
    InstallRequestInvalid,
    SettingsError,
    UserSessionExpired,
)
from b24app.store import open_store
from b24app.store.interface import Portal
from calcwork.errors import ApprovalRequired, CalcConflict, CalcInvalid, CalcNotFound, NotInGroup, NotPaid
from desk.phone import PhoneError
from desk.claims import NotYours
from desk.history import MachineNotFound
from desk.intake import IntakeError
from desk.mechanics import MechanicBusy
from desk.service_request import RequestError
from desk.workorder import OrderError, OrderNotFound
from field import actions as field_actions
from field import day as field_day
from handlers import errors
from handlers.common import json_api
from handlers.errors import BadInput, RoleRequired
from install.registry import NotInstalled
from maps import assign, booking_rules, swap
from maps.stats import BadRange
from reports.period import ReportError
from visits.act import PhotoTooLarge
from visits.create import CreateError
from visits.read import NotFound

EXPECTED = [
    (BadInput("query parameter 'x' is required"), 400, "BAD_REQUEST"),
    (BadRange("from 2026-02-02 is after to 2026-02-01"), 400, "BAD_REQUEST"),
    (ReportError("period: week, month, quarter or custom"), 400, "BAD_REQUEST"),
    (PhoneError("phone: not a Russian number"), 400, "BAD_REQUEST"),
    (RequestError("equipment: not the company's"), 400, "BAD_REQUEST"),
    (IntakeError("company_id: an id is expected, got True"), 400, "BAD_REQUEST"),
    (OrderError("scenario: one of …"), 400, "BAD_REQUEST"),
    (OrderNotFound("work order 5 not found"), 404, "NOT_FOUND"),
    (MachineNotFound("equipment 5 not found"), 404, "NOT_FOUND"),
    (MechanicBusy("Ivan is not free then"), 409, "MECHANIC_BUSY"),
    (NotYours("work order 5 is not yours"), 403, "NOT_YOURS"),
    (app_roles.RolesError("roles: unknown role"), 400, "BAD_REQUEST"),
    (CreateError("the visit date is required"), 400, "BAD_REQUEST"),
    (PhotoTooLarge("a photo of at most 2 MB"), 413, "PHOTO_TOO_LARGE"),
    (SettingsError("time HH:MM expected", path="hours.start"), 400, "BAD_SETTINGS"),
    (NotFound("visit 5 not found"), 404, "NOT_FOUND"),
    (RoleRequired("settings", "en"), 403, "ROLE_REQUIRED"),
    (NotInstalled("m1", "smart process visit"), 409, "NOT_INSTALLED"),
    (UserSessionExpired("m", 4), 401, "SESSION_EXPIRED"),
    (assign.NotAJob("deal 5 is not an open deal"), 404, "NOT_A_JOB"),
    (assign.NoCoordinates("deal 5 has no coordinates yet"), 409, "NO_COORDINATES"),
    (assign.NotInTeam("user 9 is not in the field team"), 400, "NOT_IN_TEAM"),
    (assign.NoWindow("Ivan has no free window"), 409, "NO_WINDOW"),
    (assign.BadDays("days must be between 1 and 31"), 400, "BAD_DAYS"),
    (assign.PortalRefused("event: ACCESS_DENIED"), 502, "PORTAL_REFUSED"),
    (booking_rules.InThePast("01.01.2020 09:00 is in the past"), 409, "BOOKING_IN_PAST"),
    (booking_rules.OutsideHours("22:00–23:00 is outside Ivan's working hours"), 409, "OUTSIDE_HOURS"),
    (booking_rules.WorkerBusy("Ivan is busy at 10:00"), 409, "WORKER_BUSY"),
    (swap.NotAssigned("deal 5 has no worker yet"), 409, "NOT_ASSIGNED"),
    (swap.SameWorker("user 4 already does deal 5"), 400, "SAME_WORKER"),
    (CalcInvalid("en", "empty_text"), 400, "BAD_REQUEST"),
    (CalcNotFound("ru", "calc_not_found", calc=5), 404, "NOT_FOUND"),
    (CalcConflict("en", "taken_by_other"), 409, "CALC_CONFLICT"),
    (NotInGroup("en", "not_in_group"), 403, "NOT_IN_GROUP"),
    (ApprovalRequired("en", "out_of_range", line="x", amount=1, low=0, high=0, pct=10), 409, "APPROVAL_REQUIRED"),
    (NotPaid("ru", "not_paid", paid="0.00", total="100.00"), 409, "NOT_PAID"),
    (field_actions.BadAction("'action': one of on_way, started, …"), 400, "BAD_REQUEST"),
    (field_actions.FileTooLarge("the file is 12.0 MB; the limit is 10 MB"), 413, "FILE_TOO_LARGE"),
    (field_actions.ActionConflict("this action id was already used"), 409, "ACTION_ID_REUSED"),
    (field_actions.ActionBusy("this action is being applied right now"), 409, "ACTION_IN_PROGRESS"),
    (field_day.NotYours("job 5 is another worker's"), 403, "NOT_YOUR_JOB"),
    (field_day.NotFound("job 5 not found"), 404, "NOT_FOUND"),
    (InstallRequestInvalid("missing AUTH_ID", "INVALID_REQUEST"), 400, "INVALID_REQUEST"),
    (InstallNotConfirmed("not confirmed", "INVALID_AUTH"), 401, "INVALID_AUTH"),
    (InstallRefused("another application", "WRONG_CLIENT"), 403, "WRONG_CLIENT"),
    (B24Error("ACCESS_DENIED", "Access denied", 403), 403, "PORTAL_ACCESS_DENIED"),
    (B24Error("", "Access denied.", 400), 403, "PORTAL_ACCESS_DENIED"),
    (B24Error("", "Not found", 400), 404, "NOT_FOUND"),
    (B24Error("INTERNAL_SERVER_ERROR", "oops", 500), 502, "PORTAL_ERROR"),
]


@pytest.mark.parametrize("exc,status,code", EXPECTED, ids=[type(e).__name__ + ":" + c for e, _, c in EXPECTED])
def test_each_error_has_its_status_and_code(exc, status, code):
    got = errors.answer(exc)
    assert got is not None and got[:2] == (status, code), got
    assert got[2]                                            # always a description a page can show


def test_every_row_of_the_table_is_checked_here():
    checked = {type(e) for e, _, _ in EXPECTED}
    assert set(errors.TABLE) <= checked, set(errors.TABLE) - checked


def test_domain_errors_carry_no_http_status():
    for exc, _, _ in EXPECTED:
        if not isinstance(exc, B24Error):                     # the portal's own answer keeps what it said
            assert not hasattr(exc, "status"), type(exc)


def test_a_message_said_in_two_languages_answers_in_the_persons():
    from b24app.errors import said

    exc = assign.NoWindow(said("Ivan has no free window", "у Ивана нет свободного окна"))
    assert errors.answer(exc, "ru")[2] == "у Ивана нет свободного окна"
    assert errors.answer(exc, "ua")[2] == "у Ивана нет свободного окна"
    assert errors.answer(exc, "en")[2] == errors.answer(exc, "de")[2] == "Ivan has no free window"
    assert str(exc) == "Ivan has no free window"                              # logs and robots read English
    bad = SettingsError(said("time HH:MM expected", "время в виде ЧЧ:ММ"), path="hours.start")
    assert errors.answer(bad, "ru")[2] == "hours.start: время в виде ЧЧ:ММ"


@pytest.mark.parametrize("exc", [KeyError("deal_id"), TypeError("NoneType"), ValueError("bad"),
                                 AttributeError("x"), LookupError("x")])
def test_what_the_table_does_not_know_is_not_answered(exc):
    assert errors.answer(exc) is None


@pytest.fixture
def http(tmp_path):
    """An app with a few JSON endpoints that raise, behind a real page session of an installed portal."""
    store = open_store(f"sqlite:///{tmp_path / 'app.db'}")
    store.portals.upsert(Portal(member_id="m1", domain="p.example", client_endpoint="https://p.example/rest/",
                                server_endpoint="https://oauth.example/rest/", access_token="a", refresh_token="r",
                                expires_at=int(time.time()) + 3600, application_token="t", status="installed"))
    app = create_app(Settings(), store=store)
    bp = Blueprint("raising", __name__)

    @bp.get("/api/test/bug")
    @json_api()
    def bug(sess):
        return {}["deal_id"]                       # a bug in our code, not the caller's input

    @bp.get("/api/test/type-bug")
    @json_api()
    def type_bug(sess):
        return len(None)

    @bp.get("/api/test/bad-input")
    @json_api()
    def bad_input(sess):
        raise BadInput("query parameter 'worker' is required")

    @bp.get("/api/test/no-window")
    @json_api()
    def no_window(sess):
        raise assign.NoWindow("Ivan has no free window in the next 14 days")

    app.register_blueprint(bp)
    token = page_sessions.issue(store, page_sessions.PageSession("m1", None, "en", roles=(app_roles.ADMIN,),
                                                                 is_admin=True))
    client = app.test_client()
    return lambda path: client.get(path, headers={page_sessions.HEADER: token})


def test_a_key_error_inside_a_handler_is_a_500_not_a_400(http):
    for path in ("/api/test/bug", "/api/test/type-bug"):
        r = http(path)
        assert r.status_code == 500 and r.get_json()["error"] == "INTERNAL_ERROR", (path, r.get_data(as_text=True))


def test_bad_input_and_domain_errors_answer_from_the_table(http):
    r = http("/api/test/bad-input")
    assert r.status_code == 400 and r.get_json() == {"error": "BAD_REQUEST",
                                                     "error_description": "query parameter 'worker' is required"}
    r = http("/api/test/no-window")
    assert r.status_code == 409 and r.get_json()["error"] == "NO_WINDOW" and "Ivan" in r.get_json()["error_description"]


def test_a_bug_behind_the_maps_and_visits_edges_is_a_500(http, monkeypatch):
    """The dispatch and visit edges parse their input themselves: a missing parameter is a 400 naming it,
    while a KeyError from the code behind them (here: a domain function with a bug) is a 500."""
    from maps import assign as dispatch
    from visits import read

    r = http("/api/maps/worker-day")
    assert r.status_code == 400 and "'worker' is required" in r.get_json()["error_description"]
    r = http("/api/maps/worker-day?worker=x")
    assert r.status_code == 400 and "'worker' must be an integer" in r.get_json()["error_description"]

    def buggy(*a, **kw):
        return {}["stops"]

    monkeypatch.setattr(dispatch, "worker_day", buggy)
    monkeypatch.setattr(read, "visit_page", buggy)
    assert http("/api/maps/worker-day?worker=4").status_code == 500
    assert http("/api/visits/5").status_code == 500
