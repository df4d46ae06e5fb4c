"""The HTTP face of the 1C sandbox: `/<base>/odata/standard.odata/…` as a published infobase answers it.

Query options are read from the *raw* query string with `%XX` decoding only — a `+` stays a `+`, as in
1C, so a client that lets `requests` encode spaces as `+` gets a `$filter` parse error here too.
"""
from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import unquote
from xml.sax.saxutils import escape, quoteattr

from werkzeug.wrappers import Request, Response

from .data import EntityDef, Infobase
from .filters import FilterError, compile_filter, typed

_HTML_503 = ("<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1>"
             "<p>The server is temporarily unable to service your request.</p></body></html>")
# IIS' request filtering: a query string longer than maxQueryString (2,048 bytes by default) never reaches
# 1C — the web server answers 404.15 with its own HTML page (1c-odata.md §1.3).
IIS_MAX_QUERY = 2048
APACHE_MAX_QUERY = 8190 - 64           # Apache's request line limit, less the method, path and protocol
_HTML_404_15 = ("<!DOCTYPE html><html><head><title>IIS 10.0 Detailed Error - 404.15 - Not Found</title></head>"
                "<body><h3>HTTP Error 404.15 - Not Found</h3><p>The request filtering module is configured to deny "
                "a request where the query string is too long.</p></body></html>")
_HTML_LOGIN = ("<!DOCTYPE html><html><head><title>1С:Предприятие — вход</title></head><body>"
               "<form method='post'><input name='login'><input name='password' type='password'></form>"
               "</body></html>")


class ODataFail(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Faults:
    """Switches a test flips: `down` (the server is off: connections are refused, kept-alive ones closed),
    `unavailable` (the web server is up, 1C behind it is not: 503 HTML page), `html_login_page` (HTTP 200
    text/html), `fail_next` (that many 503 answers, then normal — for retries), `drop_next` (close the
    connection without an answer), `bom` (UTF-8 BOM before JSON, as 1C builds send — on by default),
    `latency` seconds, `body` (a non-OData answer with HTTP 200 — plain text, XML, broken JSON — from a
    proxy or a half-broken publication; `$metadata` keeps working so the start-up check passes and the
    data reads meet it)."""
    unavailable: bool = False
    html_login_page: bool = False
    fail_next: int = 0
    drop_next: int = 0
    bom: bool = True
    latency: float = 0.0
    body: tuple[str, str] | None = None    # (content type, text): every data request (not $metadata) gets it, HTTP 200
    _down: bool = field(default=False, repr=False)
    _on_down: Callable[[bool], None] | None = field(default=None, repr=False)

    @property
    def down(self) -> bool:
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        value = bool(value)
        if value != self._down:
            self._down = value
            if self._on_down is not None:
                self._on_down(value)


@dataclass
class Logged:
    method: str
    path: str
    raw_query: str
    options: dict
    user: str | None
    status: int = 0


@dataclass
class ServerState:
    infobase: Infobase
    base: str
    users: dict[str, str]
    faults: Faults = field(default_factory=Faults)
    log: list[Logged] = field(default_factory=list)
    query_cache: dict = field(default_factory=dict)      # (set, $filter, $orderby) → (generation, rows)
    max_query: int | None = IIS_MAX_QUERY                # the web server's query-string limit, bytes
    restricted: set = field(default_factory=set)         # keys the OData user may not read (RLS)


def _dumps(obj) -> str:
    def default(o):
        if isinstance(o, Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        raise TypeError(type(o).__name__)
    return json.dumps(obj, ensure_ascii=False, default=default)


def parse_options(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, raw.split("&")):
        name, _, value = part.partition("=")
        out[unquote(name)] = unquote(value)          # %XX only: '+' is not a space for 1C
    return out


def _auth_user(request: Request, users: dict[str, str]) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user if users.get(user) == password else None


def make_app(state: ServerState):
    prefix = f"/{state.base}/odata/standard.odata"

    def app(environ, start_response):
        request = Request(environ)
        raw_query = environ.get("QUERY_STRING", "")
        entry = Logged(request.method, request.path, raw_query, {}, None)
        state.log.append(entry)
        response = _handle(state, request, raw_query, prefix, entry)
        if response is None:                          # drop: close the socket, answer nothing
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            response = Response(b"", 500)
        entry.status = response.status_code
        return response(environ, start_response)
    return app


def _handle(state: ServerState, request: Request, raw_query: str, prefix: str,
            entry: Logged) -> Response | None:
    f = state.faults
    if f.latency:
        time.sleep(f.latency)
    if f.drop_next > 0 or f.down:              # down: a kept-alive connection is closed by the stopped server
        f.drop_next = max(0, f.drop_next - 1)
        return None
    if state.max_query is not None and len(raw_query.encode("latin-1", "replace")) > state.max_query:
        return Response(_HTML_404_15, 404, content_type="text/html")
    if f.unavailable or f.fail_next > 0:
        f.fail_next = max(0, f.fail_next - 1)
        return Response(_HTML_503, 503, content_type="text/html; charset=utf-8")
    if f.html_login_page:
        return Response(_HTML_LOGIN, 200, content_type="text/html; charset=utf-8")
    if not request.path.startswith(prefix):
        return Response("<html><head><title>404 Not Found</title></head><body>Not Found</body></html>", 404,
                        content_type="text/html; charset=utf-8")
    entry.user = _auth_user(request, state.users)
    if entry.user is None:
        return Response("Unauthorized", 401, {"WWW-Authenticate": 'Basic realm="1C:Enterprise"'},
                        content_type="text/plain; charset=utf-8")
    if request.method != "GET":
        return _error(ODataFail(405, "19", "the 1C sandbox is read-only: HTTP method not allowed here"), f)
    options = parse_options(raw_query)
    entry.options = options
    resource = request.path[len(prefix):].lstrip("/")
    if f.body is not None and resource != "$metadata":
        return Response(f.body[1].encode("utf-8"), 200, content_type=f.body[0])
    try:
        with state.infobase.lock:
            return _route(state, resource, options, request)
    except FilterError as exc:
        return _error(ODataFail(400, exc.code, str(exc)), f)
    except ODataFail as exc:
        return _error(exc, f)


def _error(exc: ODataFail, faults: Faults) -> Response:
    body = {"odata.error": {"code": exc.code, "message": {"lang": "ru", "value": exc.message}}}
    return _json(body, faults, exc.status)


def _json(body, faults: Faults, status: int = 200) -> Response:
    text = ("\ufeff" if faults.bom else "") + _dumps(body)
    return Response(text.encode("utf-8"), status, content_type="application/json;odata=minimalmetadata;charset=utf-8")


def _base_url(state: ServerState, request: Request) -> str:
    return f"{request.host_url}{state.base}/odata/standard.odata/"


def _route(state: ServerState, resource: str, options: dict, request: Request) -> Response:
    ib, f = state.infobase, state.faults
    base = _base_url(state, request)
    if resource == "$metadata":
        return Response(metadata_xml(ib.schema), 200, content_type="application/xml;charset=utf-8")
    fmt = _format(options, request)
    if fmt is None:
        raise ODataFail(400, "3", f"unsupported $format {options.get('$format')!r}")
    if fmt == "atom" and resource != "" and not resource.endswith("/$count"):
        return _atom(state, resource, options, request)
    if resource == "":
        return _json({"odata.metadata": base + "$metadata",
                      "value": [{"name": n, "url": n} for n in ib.schema]}, f)
    name, count = resource, False
    if resource.endswith("/$count"):
        name, count = resource[: -len("/$count")], True
    key = None
    if name.endswith(")") and "(" in name:
        name, _, keypart = name[:-1].partition("(")
        if not (keypart.startswith("guid'") and keypart.endswith("'")):
            raise ODataFail(400, "7", f"key must be guid'…', got {keypart!r}")
        key = keypart[5:-1].lower()
    edef = ib.schema.get(name)
    if edef is None:
        raise ODataFail(404, "8", f"entity set {name!r} not found (not published in the OData composition)")
    if key is not None:
        row = ib.table(name).get(key)
        if row is None:
            raise ODataFail(404, "9", "Экземпляр сущности не найден")
        if _forbidden(state, row):               # $allowedOnly is for collections only (§1.3)
            raise ODataFail(401, "20", "Недостаточно прав для чтения данных")
        out = _project(ib, edef, row, options.get("$select"), None)
        return _json({"odata.metadata": f"{base}$metadata#{name}/@Element", **out}, f)
    rows = _allowed(state, _matching_rows(state, edef, options), options)
    if count:
        return Response(str(len(rows)), 200, content_type="text/plain;charset=utf-8")
    total = len(rows)
    if options.get("$inlinecount") == "allpages":
        pass                                   # the vendor doc: $inlinecount makes 1C ignore $skip/$top
    else:
        skip, top = _int(options, "$skip"), _int(options, "$top")
        rows = rows[skip or 0:]
        if top is not None:
            rows = rows[:top]
    expand = [e for e in options.get("$expand", "").split(",") if e]
    body = {"odata.metadata": f"{base}$metadata#{name}",
            "value": [_project(ib, edef, r, options.get("$select"), expand) for r in rows]}
    if options.get("$inlinecount") == "allpages":
        body["odata.count"] = str(total)
    return _json(body, f)


def _matching_rows(state: ServerState, edef: EntityDef, options: dict) -> list[dict]:
    """Rows passing `$filter`, in `$orderby` order. Two shortcuts keep a 10,000-document base fast
    without changing any answer: `Ref_Key eq …` terms are looked up by key (the predicate still runs on
    those rows), and a filtered, ordered list is kept until the next write to the infobase, so paging
    one query with `$skip` does not filter and sort everything again for each page."""
    ib, name = state.infobase, edef.name
    flt, orderby = options.get("$filter") or "", options.get("$orderby") or ""
    cache_key = (name, flt, orderby)
    hit = state.query_cache.get(cache_key)
    if hit is not None and hit[0] == ib.generation:
        return hit[1]
    table = ib.table(name)
    rows = list(table.values())
    if flt:
        pred = compile_filter(flt)
        pred(_probe_row(edef), edef.props, edef.sections)   # type errors even when no row matches, as in 1C
        if pred.keys is not None and {f for f, _k in pred.keys} == {edef.key[0]}:
            rows = [table[k] for k in sorted(k for _f, k in pred.keys) if k in table]
        rows = [r for r in rows if pred(r, edef.props, edef.sections)]
    if orderby:
        rows = _order(rows, edef, orderby)
    if len(state.query_cache) > 64:
        state.query_cache.clear()
    state.query_cache[cache_key] = (ib.generation, rows)
    return rows


def _forbidden(state: ServerState, row: dict) -> bool:
    return bool(state.restricted) and (row.get("Ref_Key") in state.restricted or row.get("Заказ") in state.restricted)


def _allowed(state: ServerState, rows: list[dict], options: dict) -> list[dict]:
    """Row-level security (1c-odata.md §1.7): a query whose rows include one the user may not read fails
    with 401 / code 20, unless `$allowedOnly=true` asks for the readable rows only."""
    if not state.restricted:
        return rows
    if options.get("$allowedOnly", "").lower() == "true":
        return [r for r in rows if not _forbidden(state, r)]
    if any(_forbidden(state, r) for r in rows):
        raise ODataFail(401, "20", "Недостаточно прав для чтения данных (ограничение доступа на уровне записей)")
    return rows


def _format(options: dict, request: Request) -> str | None:
    """"json" or "atom": `$format` decides, else the Accept header; 1C's default is atom (§1.3)."""
    fmt = options.get("$format")
    if fmt is not None:
        base = fmt.split(";")[0].strip().lower()
        return "json" if base in ("json", "application/json") else \
            "atom" if base in ("atom", "xml", "application/atom+xml", "application/xml") else None
    accept = request.headers.get("Accept", "")
    return "json" if "application/json" in accept else "atom"


def _atom(state: ServerState, resource: str, options: dict, request: Request) -> Response:
    """A collection as an Atom feed (entries' `m:properties`), the standard interface's default format."""
    ib = state.infobase
    name, _, keypart = resource.partition("(")
    edef = ib.schema.get(name)
    if edef is None:
        raise ODataFail(404, "8", f"entity set {name!r} not found")
    if keypart:
        row = ib.table(name).get(keypart.rstrip(")").removeprefix("guid'").rstrip("'").lower())
        if row is None:
            raise ODataFail(404, "9", "Экземпляр сущности не найден")
        if _forbidden(state, row):
            raise ODataFail(401, "20", "Недостаточно прав для чтения данных")
        rows = [row]
    else:
        rows = _allowed(state, _matching_rows(state, edef, options), options)
        skip, top = _int(options, "$skip"), _int(options, "$top")
        rows = rows[skip or 0:][:top] if top is not None else rows[skip or 0:]
    base = _base_url(state, request)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/'
             f'dataservices" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
             f'xml:base={quoteattr(base)}><id>{escape(base + name)}</id><title type="text">{escape(name)}</title>']
    for r in rows:
        props = "".join(f"<d:{k}>{escape(str(v))}</d:{k}>" for k, v in r.items()
                        if k in edef.props and v is not None)
        parts.append(f'<entry><category term="StandardODATA.{escape(name)}" '
                     f'scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"/>'
                     f'<content type="application/xml"><m:properties>{props}</m:properties></content></entry>')
    parts.append("</feed>")
    return Response("\n".join(parts), 200, content_type="application/atom+xml;type=feed;charset=utf-8")


def _probe_row(edef: EntityDef) -> dict:
    """A row of empty values of the right types, to type-check a `$filter` before touching data."""
    empty = {"Edm.Guid": "00000000-0000-0000-0000-000000000000", "Edm.DateTime": "0001-01-01T00:00:00",
             "Edm.Boolean": False, "Edm.String": ""}
    row = {p: empty.get(t, 0) for p, t in edef.props.items()}
    row.update({p: "StandardODATA.Undefined" for p in edef.props if p.endswith("_Type")})
    row.update({s: [] for s in edef.sections})
    return row


def _int(options: dict, name: str) -> int | None:
    if name not in options:
        return None
    if not options[name].isdigit():
        raise ODataFail(400, "14", f"{name} must be a non-negative integer, got {options[name]!r}")
    return int(options[name])


def _order(rows: list[dict], edef: EntityDef, spec: str) -> list[dict]:
    for part in reversed([p.strip() for p in spec.split(",") if p.strip()]):
        fld, _, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        if fld not in edef.props or direction not in ("asc", "desc"):
            raise FilterError(f"$orderby: cannot order by {part!r}", "14" if fld in edef.props else "10")
        edm = edef.props[fld]

        def sort_key(r, fld=fld, edm=edm):
            v = typed(r.get(fld), edm, composite=False)
            return (v.kind != "null", v.value if v.kind != "null" else 0)
        rows = sorted(rows, key=sort_key, reverse=(direction == "desc"))
    return rows


def _project(ib: Infobase, edef: EntityDef, row: dict, select: str | None, expand: list[str] | None) -> dict:
    if not select or select.strip() in ("*", ""):
        out = dict(row)
    else:
        out = {}
        for item in (s.strip() for s in select.split(",")):
            if item == "**":
                out.update({k: v for k, v in row.items() if k not in edef.sections})
            elif "/" in item:
                section, col = item.split("/", 1)
                if section not in edef.sections or col not in edef.sections[section]:
                    raise ODataFail(400, "10", f"$select: property {item!r} not found")
                rows = out.setdefault(section, [{} for _ in row.get(section) or []])
                for dst, src in zip(rows, row.get(section) or []):
                    dst[col] = src.get(col)
            elif item in edef.props or item in edef.sections:
                out[item] = row.get(item)
            elif item in edef.navs and any(item == e.split("/")[0] for e in expand or []):
                continue
            else:
                raise ODataFail(400, "10", f"$select: property {item!r} not found in {edef.name}")
    for nav in expand or []:
        target = edef.navs.get(nav)
        if target is None:
            raise ODataFail(400, "10", f"$expand: navigation property {nav!r} not found in {edef.name}")
        ref = row.get(f"{nav}_Key")
        out[nav] = dict(ib.rows[target][ref]) if ref in ib.rows[target] else None
    return out


def metadata_xml(schema: dict[str, EntityDef]) -> str:
    """A small CSDL v3 document in 1C's shape: namespace StandardODATA, sections as
    `Collection(StandardODATA.<set>_<section>_RowType)`, navigation properties for `X_Key` refs."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">',
             '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
             'm:DataServiceVersion="3.0">',
             '<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="StandardODATA">']
    for e in schema.values():
        keys = "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in e.key)
        parts.append(f'<EntityType Name={quoteattr(e.name)}><Key>{keys}</Key>')
        for p, t in e.props.items():
            parts.append(f'<Property Name={quoteattr(p)} Type="{t}" Nullable="{str(p not in e.key).lower()}"/>')
        for s in e.sections:
            row_type = f"Collection(StandardODATA.{e.name}_{s}_RowType)"
            parts.append(f'<Property Name={quoteattr(s)} Type={quoteattr(row_type)} Nullable="false"/>')
        for nav, target in e.navs.items():
            parts.append(f'<NavigationProperty Name={quoteattr(nav)} '
                         f'Relationship={quoteattr(f"StandardODATA.{e.name}_{nav}")} '
                         f'FromRole="Begin" ToRole={quoteattr(target)}/>')
        parts.append("</EntityType>")
        for s, cols in e.sections.items():
            parts.append(f"<ComplexType Name={quoteattr(f'{e.name}_{s}_RowType')}>")
            parts += [f'<Property Name={quoteattr(c)} Type="{t}" Nullable="true"/>' for c, t in cols.items()]
            parts.append("</ComplexType>")
    parts.append('<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">')
    parts += [f'<EntitySet Name={quoteattr(n)} EntityType={quoteattr("StandardODATA." + n)}/>' for n in schema]
    parts.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return "\n".join(parts)
