"""What every answer of the web app carries, and what its access log may not: security headers and a
mask on werkzeug's request log.

Headers (one ``after_request``): ``Referrer-Policy: no-referrer`` (a page's URL — a phone link, a
one-time download — never leaks to a map tile server or a linked site) and ``X-Content-Type-Options:
nosniff`` everywhere. ``Content-Security-Policy: frame-ancestors`` is chosen per request by the view
(``frame_ancestors(value)``, kept in ``flask.g``): a page rendered from a verified frame may be framed by
that portal's own origin only, the phone page by ourselves only; anything else — JSON, error pages, a
view that said nothing — by nobody. A page may be framed only when it rendered (status < 400) as HTML.
An HTML answer also says where its scripts may come from: ``script-src 'self'`` plus the origin of BX24.js
(``settings.bx24_js_url``) — no inline script, no ``eval``: page data travels as JSON in
``<script type="application/json">`` (never executed), the code in static/ (tests/app/test_templates.py
keeps it so) — and ``object-src 'none'; base-uri 'none'``.

Access log: the phone link (``/m/<link>``) and a one-time download (``/api/reports/download/<token>``)
are secrets that are URLs by nature; werkzeug logs every request line in full, so a filter on the
"werkzeug" logger masks those path segments and the values of credential-like query keys
(``session``, ``auth``, ``AUTH_ID``, tokens …) before any handler sees the record. The same filter sits
on urllib3's request log (DEBUG): the OAuth server's documented GETs carry ``auth=``/``refresh_token=``/
``client_secret=`` in the query (b24app/oauth.py).
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, current_app, g

NONE = "'none'"
SELF = "'self'"
MASK = "***"

_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")


def frame_ancestors(value: str) -> None:
    """Called by a view: who may frame the page this request renders."""
    g.b24_frame_ancestors = value


def portal_origin(settings, portal) -> str:
    """``scheme://host[:port]`` of the stored portal: https, or http for a portal whose REST endpoint is
    http when the operator allows http portals (the sandbox). A stored domain that is not a plain
    host[:port] gives ``'none'`` — it never becomes part of a header."""
    domain = str(getattr(portal, "domain", "") or "").strip()
    if not _HOST.match(domain):
        return NONE
    http = settings.allow_http_portals and urlsplit(str(portal.client_endpoint or "")).scheme == "http"
    return f"{'http' if http else 'https'}://{domain.lower()}"


@lru_cache(maxsize=8)
def script_origin(url: str) -> str | None:
    """Where BX24.js comes from, as a CSP source: ``https://api.bitrix24.com`` for an absolute URL; for the
    protocol-relative default ``//api.bitrix24.com/api/v1/`` the bare host — CSP matches a scheme-less
    source against the page's own scheme, which is exactly what ``//`` loads. Anything else (no host, an
    odd host, user:pw@, another scheme) gives None: it never becomes part of a header."""
    url = str(url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.netloc
    if not _HOST.match(host):
        return None
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{host.lower()}"
    if not parts.scheme and url.startswith("//"):
        return host.lower()
    return None


def page_policy(frame_ancestors_value: str, bx24_js_url: str | None) -> str:
    """The whole CSP of an HTML answer; keep frame-ancestors first (what framed it is the headline)."""
    scripts = " ".join(s for s in (SELF, script_origin(bx24_js_url or "")) if s)
    return (f"frame-ancestors {frame_ancestors_value}; script-src {scripts}; object-src {NONE}; "
            f"base-uri {NONE}")


def _bx24_js_url() -> str | None:
    services = current_app.extensions.get("b24")
    return getattr(getattr(services, "settings", None), "bx24_js_url", None)


def _apply_headers(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    allowed = g.get("b24_frame_ancestors") or NONE
    if response.status_code >= 400 or response.mimetype != "text/html":
        allowed = NONE
    if response.mimetype == "text/html":        # pages, error pages included: scripts from us and BX24.js only
        response.headers["Content-Security-Policy"] = page_policy(allowed, _bx24_js_url())
    else:
        response.headers["Content-Security-Policy"] = f"frame-ancestors {allowed}"
    return response


# --- access log ------------------------------------------------------------------------------------------
SECRET_PATHS = ("/m/", "/api/reports/download/")
_PATH = re.compile(r"(?P<head>(?:^|[\s\"'])(?:https?://[^/\s\"']+)?(?:" +
                   "|".join(re.escape(p) for p in SECRET_PATHS) + r"))(?P<secret>[^/?#\s\"']+)")
_QUERY_KEY = (r"(?:session|x-b24app-session|auth|auth_id|refresh_id|access_token|refresh_token|"
              r"application_token|token|[\w-]*secret|password)")
_QUERY = re.compile(rf"(?P<head>[?&;](?:[\w-]+(?:\[|%5B))?{_QUERY_KEY}(?:\]|%5D)?=)(?P<value>[^&#\s\"']*)",
                    re.IGNORECASE)


def mask_url_secrets(text: str) -> str:
    """``GET /m/abc… HTTP/1.1`` → ``GET /m/*** HTTP/1.1``; ``?session=x&a=1`` → ``?session=***&a=1``."""
    text = _PATH.sub(lambda m: m.group("head") + MASK, text)
    return _QUERY.sub(lambda m: m.group("head") + (MASK if m.group("value") else ""), text)


class AccessLogMask(logging.Filter):
    """On the "werkzeug" logger: the record's message rendered and masked in place (never dropped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report
            return True
        masked = mask_url_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


REQUEST_LOGGERS = ("werkzeug", "urllib3.connectionpool")   # requests we answer; requests we make


def install_log_mask() -> None:
    """Idempotent: one AccessLogMask on each logger that writes request lines."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, AccessLogMask) for f in logger.filters):
            logger.addFilter(AccessLogMask())


def install(app: Flask) -> None:
    app.after_request(_apply_headers)
    install_log_mask()
