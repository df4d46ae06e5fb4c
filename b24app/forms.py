"""The edges' form parse: PHP-style nested keys → dict (b24app/phpform.py), bounded (reference §2.2, §4.3).

Events and robot calls arrive as ``application/x-www-form-urlencoded`` with keys like
``data[FIELDS][ID]=7`` and ``auth[member_id]=…``; every scalar is a string; ``[]`` appends, later values
win, dicts keyed ``0..n-1`` become lists (phpform.decode).

The parse runs before anyone is authenticated, so it is linear in the input and bounded: more than
``MAX_FIELDS`` fields or a key nested deeper than ``MAX_DEPTH`` is refused (``FormLimitError``) before
any nesting work — a genuine portal form has a few dozen fields and a handful of levels.
"""
from __future__ import annotations

from typing import Any, Iterable

from .phpform import FormLimitError, Limits, decode

__all__ = ["MAX_FIELDS", "MAX_DEPTH", "FormLimitError", "check_body", "parse_pairs", "parse_form", "parse_request"]

MAX_FIELDS = 2000
MAX_DEPTH = 32


def _limits() -> Limits:
    return Limits(fields=MAX_FIELDS, depth=MAX_DEPTH)      # read at call time (tests lower/raise them)


def too_many_fields(count: int) -> FormLimitError:
    return _limits().too_many_fields(count)


def check_body(body: bytes) -> None:
    """A cheap look at a raw urlencoded body (one ``count``) before it is split into fields at all."""
    count = body.count(b"&") + 1 if body else 0
    if count > MAX_FIELDS:
        raise too_many_fields(count)


def parse_pairs(pairs: Iterable[tuple[str, Any]]) -> dict:
    """Nested dicts from ``(key, value)`` pairs in order, as PHP's ``$_POST`` builds them, within the limits."""
    return decode(pairs, _limits())


def parse_form(form) -> dict:
    """A werkzeug ``MultiDict`` (``request.form``) or a plain mapping → nested dict."""
    if hasattr(form, "items") and hasattr(form, "getlist"):
        return parse_pairs(form.items(multi=True))
    return parse_pairs(form.items())


def parse_request(request) -> dict:
    """A Flask/werkzeug request's form, bounded: the raw urlencoded body is counted before werkzeug
    splits it, the fields before they are nested. Raises FormLimitError."""
    if request.mimetype == "application/x-www-form-urlencoded":
        check_body(request.get_data(cache=True, parse_form_data=False))
    return parse_form(request.form)
