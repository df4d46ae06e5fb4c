"""Nothing secret in any message: ``scrub(text)`` blanks credential values in text, and
``install()`` makes every log record pass through it.

Why a scrubber as well as careful messages: exception texts come from libraries (requests puts the
whole URL, query string included, into a connection error; a form or header dict lands in a repr), so
a value can reach a log line, an inbox ``last_error`` or a page without anyone writing it there. What
is blanked: the value after any key named like a credential — ``client_secret``, ``refresh_token``,
``access_token``, ``application_token``, ``auth``, ``AUTH_ID``, ``REFRESH_ID``, ``password``,
``session`` / ``X-B24App-Session``, ``Authorization`` and anything ending in ``token``/``secret``/
``password`` — in query strings (``k=v``, also ``auth[access_token]`` and its %5B…%5D form), JSON and
Python dict reprs (``"k": "v"``, ``'k': 'v'``), headers (``k: v``, ``Bearer …``/``Basic …``), and a URL's
``user:password@``. Keys stay, so a line still says what was there.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any

from .errors import B24Error, NeedsReinstall, OAuthError, PortalNotInstalled

MASK = "***"

# A credential's name: whole word (so "OAuth" is not "auth"), optionally inside a PHP-style bracket key.
_NAME = (r"(?:[\w\-]*(?:token|secret|password|passwd)|auth|auth_id|refresh_id|session|x-b24app-session"
         r"|authorization|api_key|apikey)")
_KEY = rf"(?<![\w\-])(?:[\w\-]+(?:\[|%5B))?{_NAME}(?:\]|%5D)?"
_Q = r"(?:\\?[\"'])?"           # an optional quote around the key (JSON, repr, escaped JSON)
_VALUE = (r"(?:(?:Bearer|Basic)\s+[^\s&'\",;}\])<>]+"        # Authorization: Bearer x
          r"|\\\"(?:[^\"\\]|\\[^\"])*\\\""                  # \"x\"  (JSON inside a JSON string)
          r"|\"(?:[^\"\\]|\\.)*\""                          # "x"
          r"|'(?:[^'\\]|\\.)*'"                             # 'x'
          r"|[^\s&'\",;}\])<>#{\[]+)")                      # x  (query string, header, prose)
_PAIR = re.compile(rf"(?P<key>{_Q}{_KEY}{_Q}\s*(?:=|:)\s*)(?P<value>{_VALUE})", re.IGNORECASE)
_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^/\s:@]+):(?P<pw>[^@\s/]+)@", re.IGNORECASE)
_BEARER = re.compile(r"\b(?P<kind>Bearer|Basic)\s+(?P<value>[A-Za-z0-9._~+/=\-]{8,})")


def _mask_value(m: re.Match) -> str:
    value = m.group("value")
    if value.startswith(("Bearer", "Basic", "bearer", "basic")):
        kind = value.split(None, 1)[0]
        return m.group("key") + kind + " " + MASK
    for q in ('\\"', '"', "'"):
        if len(value) >= 2 * len(q) and value.startswith(q) and value.endswith(q):
            return m.group("key") + q + MASK + q
    return m.group("key") + MASK


def scrub(text: Any) -> str:
    """``text`` (anything: str() is taken) with every credential value replaced by ``***``."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if not s:
        return s
    s = _PAIR.sub(_mask_value, s)
    s = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", s)
    return _BEARER.sub(lambda m: f"{m.group('kind')} {MASK}", s)


def scrub_obj(value: Any) -> Any:
    """Strings anywhere inside lists/dicts scrubbed (for JSON that is stored or shown); a dict value
    under a credential's key is blanked whatever it is."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and _is_secret_key(k) and v not in (None, "") else scrub_obj(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_obj(v) for v in value]
    return value


_KEY_ONLY = re.compile(rf"^{_KEY}$", re.IGNORECASE)


def _is_secret_key(key: str) -> bool:
    return bool(_KEY_ONLY.match(key))


def error_text(exc: BaseException) -> str:
    """``Type: message`` of an exception, scrubbed — the one way an exception becomes stored text."""
    return scrub(f"{type(exc).__name__}: {exc}")


# --- logging --------------------------------------------------------------------------------------------
_formatter = logging.Formatter()


def _scrub_record(record: logging.LogRecord) -> None:
    """Message (with its args) and traceback of one record, rendered and scrubbed in place."""
    if getattr(record, "_b24app_scrubbed", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is logging's to report, at emit time
        return
    record.msg, record.args = scrub(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    record._b24app_scrubbed = True


class ScrubFilter(logging.Filter):
    """On a handler: every record it emits is scrubbed first (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record)
        return True


_install_lock = threading.Lock()
_factory_installed = False


def install() -> None:
    """Scrub every log line of this process: a ScrubFilter on the root logger's handlers and on
    werkzeug's (access log: query strings), and a record factory so handlers added later (a test's
    capture, a library's own) get scrubbed records too. Idempotent; the CLI and create_app call it."""
    global _factory_installed
    with _install_lock:
        for name in (None, "werkzeug"):
            for h in logging.getLogger(name).handlers:
                if not any(isinstance(f, ScrubFilter) for f in h.filters):
                    h.addFilter(ScrubFilter())
        if not _factory_installed:
            previous = logging.getLogRecordFactory()

            def factory(*args, **kwargs):
                record = previous(*args, **kwargs)
                _scrub_record(record)
                return record

            logging.setLogRecordFactory(factory)
            _factory_installed = True


# --- errors that are stored or shown --------------------------------------------------------------------
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s'\"<>)\]]+", re.IGNORECASE)


def public_message(text: Any, limit: int = 500) -> str:
    """Text fit for a page or a stored error record: scrubbed, and without URLs at all (a URL is where
    a query-string credential hides, and the reader needs the reason, not the address)."""
    return _URL.sub("[url]", scrub(text))[:limit]


def error_code(exc: BaseException) -> str:
    """A stable code for an exception: the platform's own code where it has one (B24Error, OAuthError),
    NEEDS_REINSTALL / NOT_INSTALLED, else the exception's type name."""
    if isinstance(exc, (B24Error, OAuthError)) and exc.code:
        return scrub(exc.code)[:64]
    if isinstance(exc, NeedsReinstall):
        return "NEEDS_REINSTALL"
    if isinstance(exc, PortalNotInstalled):
        return "NOT_INSTALLED"
    return type(exc).__name__


def error_record(exc: BaseException, where: str = "") -> dict:
    """``{code, message}`` of an exception, as install errors are stored and shown."""
    message = public_message(str(exc))
    return {"code": error_code(exc), "message": f"{where}: {message}" if where else message}
