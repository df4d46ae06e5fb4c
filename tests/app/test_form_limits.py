"""The form parser runs before anyone is authenticated: it is linear and bounded, so 20,000 ``a[]=`` keys
or a 10,000-level key are a quick 400 ``{error, error_description}`` on every edge that reads a form,
while a genuine event still goes through."""
from __future__ import annotations

import time

import pytest
import requests

from b24app import forms
from b24app.forms import FormLimitError, parse_pairs
from b24sandbox.events import portal_form as flatten

MANY = "&".join(["a[]=1"] * 20_000)
DEEP = "a" + "[b]" * 10_000 + "=1"
EDGES = ["/events", "/robots/b24app_finish_job", "/install", "/app", "/placements/company-visits",
         "/placements/orders-map", "/placements/some-widget"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _parse_seconds(app, body: str) -> tuple[float, Exception | None]:
    """The edge's parse alone (raw count + werkzeug + nesting), in a request context of the real app."""
    with app.test_request_context("/events", method="POST", data=body, headers=FORM):
        from flask import request

        t0 = time.perf_counter()
        try:
            forms.parse_request(request)
        except FormLimitError as exc:
            return time.perf_counter() - t0, exc
        return time.perf_counter() - t0, None


def test_twenty_thousand_appends_are_refused_at_once(live_app):
    seconds, exc = _parse_seconds(live_app.app, MANY)
    assert isinstance(exc, FormLimitError) and exc.error == "FORM_TOO_LARGE"
    # how fast: bench/form_limits.py (figures in bench/RESULTS.md), never a timing asserted here
    r = requests.post(live_app.url + "/events", data=MANY, headers=FORM, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "FORM_TOO_LARGE" and set(r.json()) == {"error", "error_description"}


@pytest.mark.parametrize("path", EDGES)
def test_every_form_edge_refuses_a_huge_or_deep_form(live_app, path):
    for body, error in ((MANY, "FORM_TOO_LARGE"), (DEEP, "FORM_TOO_DEEP")):
        r = requests.post(live_app.url + path, data=body, headers=FORM, timeout=30)
        assert r.status_code == 400, (path, r.status_code, r.text[:300])
        assert r.json() == {"error": error, "error_description": r.json()["error_description"]}


def test_ten_thousand_levels_are_refused_not_a_recursion_error(live_app):
    seconds, exc = _parse_seconds(live_app.app, DEEP)
    assert isinstance(exc, FormLimitError) and exc.error == "FORM_TOO_DEEP"
    # multipart forms go through the same limits
    r = requests.post(live_app.url + "/events", files={"a" + "[b]" * 10_000: (None, "1")}, timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "FORM_TOO_DEEP", r.text[:300]


def test_limits_are_exact_and_the_parse_is_linear(monkeypatch):
    assert len(parse_pairs([("a[]", "1")] * forms.MAX_FIELDS)["a"]) == forms.MAX_FIELDS
    with pytest.raises(FormLimitError):
        parse_pairs([("a[]", "1")] * (forms.MAX_FIELDS + 1))
    deepest = "a" + "[b]" * forms.MAX_DEPTH
    node = parse_pairs([(deepest, "1")])
    for _ in range(forms.MAX_DEPTH + 1):
        node = node["a"] if "a" in node else node["b"] if isinstance(node, dict) else node
    assert node == "1"
    with pytest.raises(FormLimitError):
        parse_pairs([(deepest + "[c]", "1")])
    # without the field limit, 200,000 appends still nest right (their linear cost: bench/form_limits.py)
    monkeypatch.setattr(forms, "MAX_FIELDS", 10**7)
    out = parse_pairs([("a[]", "1")] * 200_000 + [("a[7]", "x")])
    assert len(out["a"]) == 200_000 and out["a"][7] == "x"
    assert parse_pairs([("a[²]", "1")]) == {"a": {"²": "1"}}       # a unicode digit is a key, not a 500


def test_a_genuine_event_is_still_accepted(live_app, portal):
    live_app.install(portal)
    payload = {"event": "ONCRMDEALUPDATE", "event_handler_id": "5", "data": {"FIELDS": {"ID": "7"}},
               "ts": "1700000000", "auth": portal.auth_block(live_app.client_id, 1)}
    r = requests.post(live_app.url + "/events", data=flatten(payload), timeout=30)
    assert r.status_code == 200 and r.json()["result"] is True, r.text
    assert live_app.store.inbox.counts(portal.member_id).get("pending") == 1
