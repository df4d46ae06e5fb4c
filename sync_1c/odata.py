"""Client for the standard OData interface (v3) of 1C:Enterprise 8.3, read-only.

Why our own ~300 lines instead of a generic OData library: 1C speaks OData *v3* with JSON-light
answers (`{"odata.metadata": …, "value": [...]}`) and v3 literals (`guid'…'`, `datetime'…'`); pyodata is
v2-only and python-odata v4-only (docs/reference 1c-odata.md §5). The other 1C quirks handled here:

* the query string is built by hand — spaces must be `%20`, never `+` (requests' `params=` makes `+`,
  and 1C does not accept it), Cyrillic names are UTF-8 percent-encoded;
* HTTP Basic credentials are encoded as UTF-8 (requests uses latin-1 and fails on `Администратор`);
* an HTML page (web-server login/error page, often with HTTP 200) is an error, never data;
* error bodies `{"odata.error": {"code": "9", "message": {"value": …}}}` become `ODataError`;
* there is no server paging (`odata.nextLink`): the client pages with `$top`/`$skip`;
* numbers are decoded as `Decimal` (money is `Edm.Double` on the wire), bodies as `utf-8-sig` (BOM).

The base URL is typed by a portal administrator, so every request goes through `b24app.outbound`
(public addresses only unless the operator allows more, pinned connection, no redirects), and
`str(ODataError)` — what the settings page, the sync's `last_error` and robot logs show — is in our own
words only; whatever answered (`message`, for logs and tests) never reaches the person.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import requests

from b24app.outbound import OutboundGuard, OutboundRefused, default_guard

log = logging.getLogger(__name__)

# Characters left as-is in query option values; everything else (space, `+`, `&`, `#`, Cyrillic) is
# percent-encoded. Same set as the live-tested clients use (1c-odata.md §5).
_SAFE_QUERY = "$,'()/:=*"
_SAFE_PATH = "$,'()=_/"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
# IIS' default maxQueryString (1c-odata.md §1.3): a longer query string never reaches 1C (404.15). Batched
# key lookups are packed to stay under it; `ODataClient.longest_query` keeps the longest one sent.
MAX_QUERY = 2048
PACK_MARGIN = 100      # bytes a packed look-up leaves free (a proxy or a longer $skip must not tip it over)


# --- errors ---------------------------------------------------------------------------------------------
class ODataError(Exception):
    """An answer from 1C (or the web server in front of it) that is not the data asked for.

    `code` is 1C's error code as a string ("9" = entity not found, "14" = query option parse error,
    "20" = access rights, "-1" = business exception) or one of ours: "http-<status>", "html",
    "not-json", "connection", "redirect", "refused". `status` is the HTTP status (None when no answer
    arrived). `message` may quote the answer (logs, tests); `public` and `str()` never do.
    """

    def __init__(self, code: str | None, message: str, status: int | None = None, url: str | None = None,
                 public: str | None = None):
        self.code = code
        self.message = message
        self.status = status
        self.url = url
        self.public = public or public_text(code, status)
        shown = code if re.fullmatch(r"-?\d{1,6}|[a-z0-9-]{1,24}", str(code)) else "?"   # 1C's code is answer text
        super().__init__(f"1C OData error {shown} (HTTP {status}): {self.public}")


_PUBLIC = {
    "connection": "1C is not reachable (connection refused, reset or timed out)",
    "redirect": "1C answered with a redirect, which is not followed: enter the final address of the OData "
                "publication as the base URL",
    "html": "1C answered with an HTML page instead of OData JSON — usually a web-server login or error page, "
            "or a wrong base URL",
    "not-json": "1C's answer is not JSON (XML or text: was $format=json dropped by a proxy?)",
    "not-odata": "the answer is not an OData collection",
    "not-metadata": "$metadata is not EDMX XML (a wrong base URL?)",
    "not-count": "$count did not answer a number",
    "paging": "1C ignored $skip and returned the first page again",
    "9": "1C: the object was not found",
    "14": "1C could not parse the query (a field or option this configuration does not publish?)",
    "20": "1C: no access rights (check the 1C user's role УдаленныйДоступOData)",
    "-1": "1C raised an error while answering",
    "too-long": "the request would be longer than the web server accepts (IIS maxQueryString 2048)",
}
_HTTP_HINTS = {401: "authentication failed or no rights (check the 1C user, password and role "
                    "УдаленныйДоступOData)",
               403: "forbidden by the web server",
               404: "not found (wrong base URL, or the object is not in the OData composition)",
               503: "1C or its web server is unavailable"}


def public_text(code: str | None, status: int | None) -> str:
    """What an error may say to a person: chosen by code and status, never taken from the answer."""
    if code in _PUBLIC:
        return _PUBLIC[code]
    if status in _HTTP_HINTS:
        return _HTTP_HINTS[status]
    return "1C refused the request" if status else "no usable answer from 1C"


class ODataConnectionError(ODataError):
    """No answer at all (refused, reset, timeout) after the retries."""


class ODataBadResponse(ODataError):
    """An answer that is not OData: an HTML page, plain text, broken JSON."""


class ODataRefused(ODataError):
    """The base URL is not allowed by the outbound guard; nothing was sent."""


# --- literals (OData v3, as 1C parses them) ---------------------------------------------------------------
def guid(value: str | uuid.UUID) -> str:
    """`guid'…'`; validates the value so a typo fails here, not as an empty 1C result."""
    return f"guid'{uuid.UUID(str(value))}'"


def dt(value: datetime | date) -> str:
    """`datetime'YYYY-MM-DDTHH:MM:SS'` in the infobase's *local* wall-clock time (1C dates are naive).

    An aware datetime is refused: convert it with `payments.utc_to_local` first, so the time zone of the
    base is a deliberate choice and not whatever the caller's datetime happened to carry.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("1C datetime literals are local wall-clock time: pass a naive datetime")
        return f"datetime'{value.replace(microsecond=0).isoformat()}'"
    return f"datetime'{value.isoformat()}T00:00:00'"


def string(value: str) -> str:
    """`'…'` with single quotes doubled (v3 escaping)."""
    return "'" + str(value).replace("'", "''") + "'"


def cast(key: str | uuid.UUID, entity_set: str) -> str:
    """`cast(guid'…', 'Document_X')` — the only way to compare a composite-type field (a bare guid
    silently matches nothing, 1c-odata.md §1.3)."""
    return f"cast({guid(key)}, {string(entity_set)})"


def literal(value) -> str:
    """Any Python value as a v3 literal: bool, numbers, Decimal, UUID, naive datetime/date, str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, uuid.UUID):
        return guid(value)
    if isinstance(value, (datetime, date)):
        return dt(value)
    if isinstance(value, str):
        return string(value)
    raise TypeError(f"no OData literal for {type(value).__name__}")


def or_filter(terms: list[str]) -> str:
    return "(" + " or ".join(terms) + ")"


def any_of(field: str, keys: Iterable[str]) -> str:
    """`(F eq guid'a' or F eq guid'b')` — 1C has no `in`; batch 10–40 keys to stay under URL limits."""
    parts = [f"{field} eq {guid(k)}" for k in keys]
    if not parts:
        raise ValueError("any_of needs at least one key")
    return "(" + " or ".join(parts) + ")"


# --- URL building -------------------------------------------------------------------------------------------
def build_query(options: dict[str, object]) -> str:
    """`$filter=…&$top=…` with `%20` for spaces and UTF-8 percent-encoding; None values are left out."""
    pairs = []
    for name, value in options.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        pairs.append(f"{quote(name, safe='$')}={quote(str(value), safe=_SAFE_QUERY)}")
    return "&".join(pairs)


def basic_auth_header(username: str, password: str) -> str:
    """`Basic base64(utf-8 "user:password")` — works for Cyrillic logins, unlike requests' latin-1."""
    token = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
    return f"Basic {token}"


def _snippet(text: str, limit: int = 200) -> str:
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
    if title:
        return "page title: " + " ".join(title.group(1).split())[:limit]
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())[:limit]


# --- the client ---------------------------------------------------------------------------------------------
class ODataClient:
    """Reads from one infobase's `/odata/standard.odata/`.

    Reads are retried on connection errors and on 5xx answers other than 1C's business exception
    (code "-1", which would fail again the same way); 4xx are never retried. `sleep` is injectable so
    tests do not wait for backoff.
    """

    def __init__(self, base_url: str, username: str, password: str, *, timeout: float | tuple = (5, 120),
                 retries: int = 3, backoff: float = 0.5, allowed_only: bool = True, max_query: int = MAX_QUERY,
                 session: requests.Session | None = None, sleep=time.sleep, guard: OutboundGuard | None = None):
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.allowed_only = allowed_only       # $allowedOnly=true: rows hidden by RLS are left out (§1.7)
        self.max_query = max_query
        self.longest_query = 0                 # bytes of the longest query string sent (bench, tests)
        self.requests = 0
        self._sleep = sleep
        # Without an explicit guard: the operator's allowance from the environment (default_guard).
        self.guard = guard or default_guard()
        self.session = session or self.guard.session()
        # Set the header ourselves and never pass auth=: requests would re-encode it as latin-1.
        self._auth = basic_auth_header(username, password)

    # URLs
    def url(self, resource: str, options: dict[str, object] | None = None) -> str:
        path = quote(resource, safe=_SAFE_PATH)
        query = build_query(options or {})
        return self.base_url + path + (("?" + query) if query else "")

    def collection_url(self, entity_set: str, *, filter: str | None = None, select=None, expand=None,
                       orderby=None, top: int | None = None, skip: int | None = None,
                       extra: dict | None = None) -> str:
        options: dict[str, object] = {"$format": "json", "$filter": filter, "$select": select,
                                      "$expand": expand, "$orderby": orderby, "$top": top, "$skip": skip}
        if self.allowed_only:
            options["$allowedOnly"] = "true"
        options.update(extra or {})
        return self.url(entity_set, options)

    # transport
    def _get(self, url: str, accept: str) -> requests.Response:
        query = url.partition("?")[2]
        if len(query) >= self.max_query:
            raise ODataError("too-long", f"query string of {len(query)} bytes (limit {self.max_query})", None, url)
        self.longest_query = max(self.longest_query, len(query))
        self.requests += 1
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self.session.get(url, headers={"Authorization": self._auth, "Accept": accept},
                                        timeout=self.timeout)
            except OutboundRefused as exc:
                raise ODataRefused("refused", str(exc), None, url, public=f"the 1C address is not allowed: {exc}") \
                    from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt > self.retries:
                    raise ODataConnectionError("connection", f"1C is not reachable: {exc}", None, url) from exc
                log.warning("1C OData: %s, retry %d/%d", exc.__class__.__name__, attempt, self.retries)
            else:
                if 300 <= resp.status_code < 400:
                    raise ODataError("redirect", f"HTTP {resp.status_code} to {resp.headers.get('Location', '')[:200]}",
                                     resp.status_code, url)
                if resp.status_code < 500 or attempt > self.retries or self._is_business_error(resp):
                    return resp
                log.warning("1C OData: HTTP %d, retry %d/%d", resp.status_code, attempt, self.retries)
            self._sleep(self.backoff * (2 ** (attempt - 1)))

    @staticmethod
    def _is_business_error(resp: requests.Response) -> bool:
        try:
            return str(_decode_json(resp)["odata.error"]["code"]) == "-1"
        except Exception:  # noqa: BLE001 - anything unparsable is not a 1C business error
            return False

    def get_json(self, url: str) -> dict:
        """GET and decode a JSON answer, turning every other outcome into an `ODataError`."""
        resp = self._get(url, "application/json")
        if resp.status_code >= 400:
            raise _error_from(resp, url)
        ctype = resp.headers.get("Content-Type", "").lower()
        text = resp.content.decode("utf-8-sig", errors="replace")
        head = text.lstrip()[:200].lower()
        looks_html = "html" in ctype or head.startswith(("<!doctype html", "<html"))
        if not looks_html and ("xml" in ctype or head.startswith(("<?xml", "<feed", "<entry", "<m:error", "<error"))):
            raise ODataBadResponse("not-json", f"1C answered XML ({ctype or 'no content type'}) instead of JSON — "
                                   f"was $format=json dropped by a proxy? ({_snippet(text)})", resp.status_code, url)
        if looks_html or head.startswith("<"):
            raise ODataBadResponse(
                "html", "1C answered with an HTML page instead of OData JSON — usually a web-server "
                f"login or error page, or a wrong base URL ({_snippet(text)})", resp.status_code, url)
        try:
            body = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise ODataBadResponse("not-json", f"answer is not JSON ({ctype or 'no content type'}): "
                                   f"{_snippet(text)}", resp.status_code, url) from exc
        if not isinstance(body, dict):
            raise ODataBadResponse("not-json", f"answer is JSON but not an object: {_snippet(text)}",
                                   resp.status_code, url)
        return body

    # reading
    def query(self, entity_set: str, *, filter: str | None = None, select=None, expand=None, orderby=None,
              top: int | None = None, skip: int | None = None) -> list[dict]:
        """One page of a collection (`value`)."""
        body = self.get_json(self.collection_url(entity_set, filter=filter, select=select, expand=expand,
                                                 orderby=orderby, top=top, skip=skip))
        if not isinstance(body.get("value"), list):
            raise ODataBadResponse("not-odata", f"no 'value' list in the answer for {entity_set}: "
                                   f"{_snippet(json.dumps(body, ensure_ascii=False, default=str))}", 200)
        return body["value"]

    def iter_all(self, entity_set: str, *, filter: str | None = None, select=None, expand=None,
                 orderby: str | None = "Ref_Key asc", page_size: int = 200) -> Iterator[dict]:
        """Every row, page by page. A stable `orderby` is required for `$skip` paging to be correct
        (pass `Date asc,Ref_Key asc` for time windows; None only for sets without `Ref_Key`)."""
        skip = 0
        previous_first = None
        while True:
            page = self.query(entity_set, filter=filter, select=select, expand=expand, orderby=orderby,
                              top=page_size, skip=skip)
            if page and skip and page[0] == previous_first:
                # A server ignoring $skip (e.g. with $inlinecount) would make us loop forever.
                raise ODataBadResponse("paging", f"{entity_set}: $skip={skip} returned the first page again")
            yield from page
            if len(page) < page_size:
                return
            previous_first = page[0] if skip == 0 else previous_first
            skip += page_size

    def get_by_keys(self, entity_set: str, keys: Iterable[str], *, select=None, batch: int = 40,
                    field: str = "Ref_Key", term=None) -> dict[str, dict]:
        """`{key: row}` for many keys (`Ref_Key eq … or …`), at most `batch` per request and as many as
        fit under the web server's query-string limit. `term(key)` builds one condition (default
        `field eq guid'…'`; e.g. a `cast(…)` for a composite dimension)."""
        wanted = sorted({str(k) for k in keys if k and str(k) != EMPTY_GUID})
        term = term or (lambda k: f"{field} eq {guid(k)}")
        found: dict[str, dict] = {}
        for chunk in self.pack(entity_set, [term(k) for k in wanted], select=select, batch=batch):
            for row in self.query(entity_set, filter=or_filter(chunk), select=select, top=len(chunk) * 4):
                found[str(row.get(field))] = row
        return found

    def pack(self, entity_set: str, terms: list[str], *, select=None, batch: int = 40, wrap=None,
             orderby: str | None = None, page_digits: int = 5) -> list[list[str]]:
        """`terms` grouped into lists whose request — `$filter=wrap(terms)` (default `(a or b …)`) with
        `$select`, `$orderby` and `$top`/`$skip` of up to `page_digits` digits — stays `PACK_MARGIN` under `max_query`,
        each at most `batch` long. A single term that does not fit is still sent (and refused by `_get`)."""
        wrap = wrap or or_filter

        def size(chunk):
            url = self.collection_url(entity_set, filter=wrap(chunk), select=select, orderby=orderby,
                                      top=10 ** page_digits, skip=10 ** page_digits)
            return len(url.partition("?")[2])
        out: list[list[str]] = []
        cur: list[str] = []
        for t in terms:
            if cur and (len(cur) >= batch or size(cur + [t]) > self.max_query - PACK_MARGIN):
                out.append(cur)
                cur = []
            cur.append(t)
        if cur:
            out.append(cur)
        return out

    def get_entity(self, entity_set: str, key: str, *, select=None) -> dict:
        """One entity by `Ref_Key`; a missing one raises `ODataError` with code "9" (status 404)."""
        url = self.url(f"{entity_set}({guid(key)})", {"$format": "json", "$select": select})
        return self.get_json(url)

    def count(self, entity_set: str, *, filter: str | None = None, allowed_only: bool | None = None) -> int:
        """`…/$count` answers a bare integer (possibly BOM-prefixed). `allowed_only=False`: without
        `$allowedOnly`, so a row hidden by row-level security makes it fail with 401 / code 20."""
        allowed = self.allowed_only if allowed_only is None else allowed_only
        resp = self._get(self.url(f"{entity_set}/$count", {"$filter": filter,
                                                           "$allowedOnly": "true" if allowed else None}),
                         "text/plain")
        if resp.status_code >= 400:
            raise _error_from(resp, resp.url)
        text = resp.content.decode("utf-8-sig", errors="replace").strip()
        if not text.isdigit():
            raise ODataBadResponse("not-count", f"$count answered {_snippet(text)!r}", resp.status_code, resp.url)
        return int(text)

    def entity_sets(self) -> list[str]:
        """Names in the service document; an empty list means nothing was added to the OData composition."""
        body = self.get_json(self.url("", {"$format": "json"}))
        return [str(item.get("name") or item.get("url")) for item in body.get("value", [])]

    def metadata(self) -> str:
        """`$metadata` (CSDL XML — 1C has no JSON form of it). Big (~15 MB on УТ 11.5): fetch once, cache."""
        url = self.url("$metadata")
        resp = self._get(url, "application/xml")
        if resp.status_code >= 400:
            raise _error_from(resp, url)
        text = resp.content.decode("utf-8-sig", errors="replace")
        if "edmx" not in text[:2000].lower():
            raise ODataBadResponse("not-metadata", f"$metadata is not EDMX XML: {_snippet(text)}",
                                   resp.status_code, url)
        return text


def _decode_json(resp: requests.Response):
    return json.loads(resp.content.decode("utf-8-sig"), parse_float=Decimal)


def _error_from(resp: requests.Response, url: str) -> ODataError:
    """The most specific error the answer allows: JSON `odata.error`, XML `m:error`, else status + text."""
    status = resp.status_code
    text = resp.content.decode("utf-8-sig", errors="replace")
    try:
        err = _decode_json(resp)["odata.error"]
        msg = err.get("message")
        msg = msg.get("value") if isinstance(msg, dict) else msg
        return ODataError(str(err.get("code")), str(msg), status, url)
    except Exception:  # noqa: BLE001 - fall through to the XML / plain forms
        pass
    m_code = re.search(r"<(?:\w+:)?code>(.*?)</(?:\w+:)?code>", text, re.S)
    m_msg = re.search(r"<(?:\w+:)?message[^>]*>(.*?)</(?:\w+:)?message>", text, re.S)
    if m_code and "<html" not in text[:500].lower():
        return ODataError(m_code.group(1).strip(), (m_msg.group(1).strip() if m_msg else ""), status, url)
    hint = _HTTP_HINTS.get(status, "unexpected answer")
    cls = ODataBadResponse if ("<html" in text[:500].lower() or status >= 500) else ODataError
    return cls(f"http-{status}", f"{hint}: {_snippet(text)}", status, url)
