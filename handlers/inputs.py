"""Parsing a JSON endpoint's input, explicitly: a missing or malformed parameter is ``BadInput`` (400
BAD_REQUEST) with the parameter named, raised before any domain code runs — so a ``KeyError`` or
``TypeError`` that reaches the edge is our bug (500), not the caller's."""
from __future__ import annotations

from b24app.errors import said
from datetime import date, datetime

from flask import request

from .errors import BadInput


def int_arg(name: str, default: int | None = None) -> int:
    """``?name=`` as an integer; required unless a default is given."""
    value = request.args.get(name)
    if value in (None, ""):
        if default is None:
            raise BadInput(said(f"query parameter {name!r} is required", f"не указан параметр {name!r}"))
        return default
    return _int(value, f"query parameter {name!r}")


def optional_int_arg(name: str) -> int | None:
    value = request.args.get(name)
    return None if value in (None, "") else _int(value, f"query parameter {name!r}")


def date_arg(name: str) -> date | None:
    """``?name=YYYY-MM-DD`` or None when absent."""
    return parse_date(request.args.get(name))


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise BadInput(said(f"date YYYY-MM-DD expected, got {value!r}",
                            f"нужна дата ГГГГ-ММ-ДД (YYYY-MM-DD), а не {value!r}")) from None


def month_arg(name: str = "month") -> str | None:
    """``?month=YYYY-MM`` (checked: a real month) or None for the current one."""
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise BadInput(said(f"query parameter {name!r}: YYYY-MM expected, got {value!r}",
                            f"параметр {name!r}: нужен месяц ГГГГ-ММ (YYYY-MM), а не {value!r}")) from None
    return value


def json_object(expected: str = "a JSON object is expected", *, optional: bool = False) -> dict:
    """The request body as a JSON object. ``optional``: no body at all reads as ``{}``; anything that is
    not an object is refused with ``expected`` (what the endpoint takes, in words)."""
    body = request.get_json(silent=True)
    if body is None and optional:
        return {}
    if not isinstance(body, dict):
        raise BadInput(_bad_body(expected))
    return body


def body_values(expected: str, read):
    """``read(body)`` over the JSON body object: a key it misses or a value of the wrong type is the
    caller's (BadInput ``expected``). Only the body's own values may be read there — never domain code."""
    body = json_object(expected, optional=True)
    try:
        return read(body)
    except (KeyError, TypeError, ValueError):
        raise BadInput(_bad_body(expected)) from None


def _bad_body(expected: str) -> str:
    """What a JSON endpoint takes, said to a person in both languages (the shape itself stays as written)."""
    return said(expected, "неверное тело запроса: " + expected)


def _int(value, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(said(f"{what} must be an integer", f"{what}: нужно целое число (integer)")) from None
