"""REST method registry of the sandbox portal.

Domain modules (sandbox/b24sandbox/methods/*.py) register handlers with ``@method``; the server looks
methods up lower-cased, as the real portal does (src rest/classes/general/rest.php lower-cases names).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


class B24Fault(Exception):
    """An error answer: ``{"error": code, "error_description": description}`` with an HTTP status.

    Legacy crm.deal.* style errors use an empty code (``B24Fault("", "Not found", 400)``).
    """

    def __init__(self, code: str, description: str, status: int = 400, **extra: Any):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status
        self.extra = extra


@dataclass
class Paged:
    """A list answer: the server hoists ``next``/``total`` out of ``result`` like the portal."""

    result: Any
    next: int | None = None
    total: int | None = None


@dataclass
class CallContext:
    """What a method handler knows about the call."""

    portal: Any                 # SandboxPortal (db, clock, events, settings)
    auth_kind: str              # "oauth" | "webhook"
    user_id: int                # user whose token / webhook it is
    is_admin: bool
    client_id: str | None       # app behind an OAuth token; None for webhooks
    scope: frozenset[str]
    access_token: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def app(self):
        return self.portal.cloud.apps.get(self.client_id) if self.client_id else None


@dataclass
class MethodSpec:
    name: str
    fn: Callable[[CallContext, dict], Any]
    scope: str | None           # required scope; None = always allowed (app.info, user.current w/ user scope...)
    app_only: bool = False      # webhooks get 403 WRONG_AUTH_TYPE
    admin_only: bool = False    # non-admins get 403 ACCESS_DENIED


METHODS: dict[str, MethodSpec] = {}


def method(name: str, scope: str | None = None, *, app_only: bool = False, admin_only: bool = False):
    """Register ``fn(ctx, params) -> result | Paged``; raise ``B24Fault`` for an error answer."""

    def deco(fn):
        METHODS[name.lower()] = MethodSpec(name.lower(), fn, scope, app_only, admin_only)
        return fn

    return deco


def lookup(name: str) -> MethodSpec | None:
    return METHODS.get(name.lower().removesuffix(".json"))
