"""Exceptions shared by the store, OAuth, the portal client and handlers.

Codes are the platform's own strings (reference §7.6, §1.3) so a log line reads like the docs.
"""
from __future__ import annotations


class B24Error(Exception):
    """An error envelope from a portal: ``{"error": code, "error_description": ...}`` with its HTTP status.

    ``code`` is "" for legacy methods that answer a bare "Not found" (reference §7.6).
    """

    def __init__(self, code: str, description: str = "", status: int | None = None):
        super().__init__(f"{code or '<no code>'}: {description} (HTTP {status})")
        self.code, self.description, self.status = code or "", description or "", status

    def as_dict(self) -> dict:
        return {"error": self.code, "error_description": self.description}


class B24TransportError(B24Error):
    """No answer from the portal (connection dropped, timeout). For a write we cannot know whether
    it ran, so it is not retried blindly: the caller's idempotency decides."""

    def __init__(self, description: str, method: str = ""):
        super().__init__("TRANSPORT_ERROR", description, None)
        self.method = method


class OAuthError(Exception):
    """An answer of the OAuth server (reference §1.3): invalid_grant, invalid_client, ..."""

    def __init__(self, code: str, description: str = "", status: int | None = None):
        super().__init__(f"{code}: {description} (HTTP {status})")
        self.code, self.description, self.status = code or "", description or "", status

    @property
    def invalid_grant(self) -> bool:
        """The refresh token (or code) is dead: only a re-install gives new tokens."""
        return self.code.lower() == "invalid_grant"


class PortalNotInstalled(Exception):
    """No portal record for this member_id (never installed, or forgotten after uninstall)."""

    def __init__(self, member_id: str):
        super().__init__(f"portal {member_id} is not installed")
        self.member_id = member_id


class NeedsReinstall(Exception):
    """The portal's refresh token was rejected (invalid_grant): an admin must open/reinstall the app."""

    def __init__(self, member_id: str, reason: str = ""):
        super().__init__(f"portal {member_id} needs reinstall" + (f": {reason}" if reason else ""))
        self.member_id = member_id


class UserSessionExpired(Exception):
    """A person's own portal tokens are gone or refused (refresh token spent, user fired, app access
    taken away): the page must be reopened from Bitrix24, which posts fresh ones. Never falls back to
    the app's token."""

    def __init__(self, member_id: str, user_id: int | None, reason: str = ""):
        super().__init__(f"user {user_id} of portal {member_id}: portal tokens no longer valid"
                         + (f" ({reason})" if reason else ""))
        self.member_id, self.user_id = member_id, user_id


class SettingsError(ValueError):
    """A settings value that cannot be stored as given (maps, visits, 1C): nothing is written and the text
    is shown under the form. ``path`` names where (``worker_hours.4.start``, ``gate``) when one value is
    at fault; the message then starts with it."""

    def __init__(self, message: str, *, path: str = ""):
        super().__init__(f"{path}: {message}" if path else message)
        self.path, self.message = path, message


class InstallError(Exception):
    """Installing the app did not happen: raised as is when the portal could not be brought to the
    declared state (install/apply.py, after all rounds); the subclasses are the installer call refused
    (b24app/install_flow.py) and say whose fault it is, for the edge's answer (handlers/errors.py)."""

    def __init__(self, description: str, error: str = "INSTALL_FAILED"):
        super().__init__(description)
        self.error, self.description = error, description

    def as_dict(self) -> dict:
        return {"error": self.error, "error_description": self.description}


class InstallRequestInvalid(InstallError):
    """Not an installer call we understand (fields missing)."""


class InstallNotConfirmed(InstallError):
    """The OAuth server did not confirm the posted token."""


class InstallRefused(InstallError):
    """The token is real but not for us: another app, another portal, not an administrator, http."""


class Said(str):
    """An error text in two languages: the ``str`` itself is English (logs, robots, tests read it), ``ru``
    its Russian twin. Raised as any exception's message — ``NoWindow(said("no free window", "нет окна"))`` —
    so no exception class changes its signature; the web edge picks the one of the portal's LANG
    (``text_of``)."""

    ru: str

    def __new__(cls, en: str, ru: str) -> "Said":
        s = super().__new__(cls, en)
        s.ru = ru
        return s


def said(en: str, ru: str) -> Said:
    return Said(en, ru)


def in_lang(text: str, lang: str | None) -> str:
    """A ``said(en, ru)`` text in ``lang``; a plain string as it is."""
    if (lang or "ru")[:2] in ("ru", "ua", "by", "kz") and isinstance(text, Said):
        return text.ru
    return str(text)


def text_of(exc: BaseException, lang: str | None) -> str:
    """The exception's message in ``lang`` ("ru"/"en"): the Russian twin of a ``Said`` message (also one
    prefixed by a SettingsError's path), else the message as raised."""
    first = exc.args[0] if exc.args else None
    if not isinstance(first, Said):
        first = getattr(exc, "message", None)
    if (lang or "ru")[:2] in ("ru", "ua", "by", "kz") and isinstance(first, Said):
        path = getattr(exc, "path", "")
        return f"{path}: {first.ru}" if path else first.ru
    return str(exc)
