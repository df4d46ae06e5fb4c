"""PortalClient: the only way domain code talks to a portal — call / batch / list_all with the
platform's rules built in (reference §7): a per-portal leaky bucket, back-off on 503 and 429,
one token refresh on ``expired_token``, and URLs only ever from the stored ``client_endpoint``.

The transport is b24pysdk's low-level caller (JSON POST, ``allow_redirects=False``, typed errors),
asked for exactly one attempt: retries are decided here, where we know whether a call is a read.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator
from urllib.parse import quote

from b24pysdk.api.callers.call import call as _sdk_call
from b24pysdk.errors import BitrixAPIError, BitrixRequestError, BitrixResponseError

from . import metrics, phpform
from .errors import B24Error, B24TransportError
from .logsafe import scrub

log = logging.getLogger(__name__)

BATCH_MAX = 50          # BATCH_MAX_LENGTH (reference §7.2)
PAGE = 50               # IRestService::LIST_LIMIT (reference §7.1)
READ_SUFFIXES = (".get", ".list", ".fields")
READ_METHODS = {"app.info", "profile", "user.current", "scope", "methods", "server.time", "method.get"}


def is_read(method: str) -> bool:
    """Safe to resend after a dropped connection: it cannot have changed anything."""
    m = method.lower().removesuffix(".json")
    return m.endswith(READ_SUFFIXES) or m in READ_METHODS


# --- PHP-style query strings for batch commands ----------------------------------------------------
def http_build_query(params: dict) -> str:
    """``fields[TITLE]``, ``select[0]``, ``filter[>ID]`` as PHP's http_build_query (phpform.encode:
    None and empty arrays omitted), every key and value percent-encoded."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in phpform.encode(params))


def command(method: str, params: dict | None) -> str:
    """One batch command: ``"crm.deal.add?fields%5BTITLE%5D=..."`` (single encoding: the batch
    itself goes as JSON, so no ``%2526`` double encoding is needed — reference §7.2)."""
    q = http_build_query(params or {})
    return f"{method}?{q}" if q else method


# --- results --------------------------------------------------------------------------------------
def _map(v) -> dict:
    return v if isinstance(v, dict) else {}       # PHP's empty array arrives as []


@dataclass
class BatchResult:
    result: dict = field(default_factory=dict)
    errors: dict[str, B24Error] = field(default_factory=dict)
    total: dict = field(default_factory=dict)
    next: dict = field(default_factory=dict)
    time: dict = field(default_factory=dict)


@dataclass
class CommandResult:
    ok: bool
    result: Any = None
    error: B24Error | None = None


NOT_EXECUTED = "BATCH_HALTED"


class PortalClient:
    def __init__(self, member_id: str, store, token_manager, throttle, settings=None, *,
                 max_tries: int = 10, backoff_base: float = 0.5, backoff_cap: float = 20.0,
                 timeout: float = 65.0):
        self.member_id = member_id
        self.store, self.tokens, self.settings = store, token_manager, settings
        self.bucket = throttle.bucket(member_id) if hasattr(throttle, "bucket") else throttle
        self.max_tries, self.backoff_base, self.backoff_cap = max_tries, backoff_base, backoff_cap
        self.timeout = timeout          # the cloud cuts a request at 60 s (reference §7.3)
        self.http_calls = 0
        self._count_lock = threading.Lock()

    # --- single calls -------------------------------------------------------------------------------
    def call(self, method: str, params: dict | None = None) -> Any:
        return self.call_raw(method, params).get("result")

    def call_raw(self, method: str, params: dict | None = None) -> dict:
        return self._send(method, params or {}, read=is_read(method))

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_cap, self.backoff_base * 2 ** attempt) * random.uniform(0.5, 1.0)

    def _send(self, method: str, params: dict, read: bool) -> dict:
        p = self.tokens.portal(self.member_id)          # raises PortalNotInstalled / NeedsReinstall
        token, version = p.access_token, p.token_version
        refreshed, attempt = False, 0
        while True:
            self.bucket.acquire()
            with self._count_lock:
                self.http_calls += 1
            metrics.count_call("sent")
            try:
                return _sdk_call(p.client_endpoint + method, params={**params, "auth": token},
                                 timeout=self.timeout, max_retries=1)
            except BitrixAPIError as exc:
                err = B24Error(exc.error, exc.error_description, exc.status_code)
            except BitrixRequestError as exc:
                if not read:
                    raise B24TransportError(scrub(f"{method}: no answer ({exc}); it may or may not have run"),
                                            method) from exc
                err = B24Error("TRANSPORT_ERROR", scrub(str(exc)), None)
            except BitrixResponseError as exc:            # a body that is not JSON (proxy page, redirect)
                r = exc.response
                err = B24Error("" if r.status_code != 302 else "REDIRECT",
                               scrub(r.headers.get("Location") or r.text[:200]), r.status_code)
            code = err.code.lower()
            if err.status in (503, 429):
                metrics.count_call(str(err.status))
            if err.status == 401 and code == "expired_token" and not refreshed:
                self.tokens.refresh(self.member_id, version)
                p = self.tokens.portal(self.member_id)
                token, version, refreshed = p.access_token, p.token_version, True
                continue
            retryable = (err.status == 503 or (err.status == 429 and code == "operation_time_limit")
                         or err.code == "TRANSPORT_ERROR")
            if not retryable or attempt + 1 >= self.max_tries:
                if err.code == "TRANSPORT_ERROR":
                    raise B24TransportError(err.description, method)
                raise err
            if err.status == 503:
                self.bucket.penalize()                   # the portal's bucket is full; ours is now too
            delay = self._backoff(attempt)
            log.info("portal %s %s: %s (HTTP %s), retry %d in %.2fs", self.member_id, method, err.code,
                     err.status, attempt + 1, delay)
            time.sleep(delay)
            attempt += 1

    # --- batch --------------------------------------------------------------------------------------
    def batch(self, cmds: dict, halt: bool = False) -> BatchResult:
        """One HTTP call for ≤50 commands; ``cmds`` = {key: (method, params)}."""
        if len(cmds) > BATCH_MAX:
            raise ValueError(f"a batch holds at most {BATCH_MAX} commands, got {len(cmds)}")
        body = {"halt": 1 if halt else 0, "cmd": {str(k): command(m, p) for k, (m, p) in cmds.items()}}
        env = self._send("batch", body, read=all(is_read(m) for m, _ in cmds.values()))
        res = _map(env.get("result"))
        errors = {k: B24Error(e.get("error", ""), e.get("error_description", ""), None)
                  for k, e in _map(res.get("result_error")).items()}
        return BatchResult(_map(res.get("result")), errors, _map(res.get("result_total")),
                           _map(res.get("result_next")), _map(res.get("result_time")))

    def batch_many(self, calls: Iterable[tuple[str, dict]], halt: bool = False) -> list[CommandResult]:
        """Any number of commands in ⌈n/50⌉ HTTP calls, results in input order. With ``halt`` the
        first failure stops everything after it (those come back with error code BATCH_HALTED)."""
        calls = list(calls)
        out: list[CommandResult] = []
        for start in range(0, len(calls), BATCH_MAX):
            chunk = calls[start:start + BATCH_MAX]
            br = self.batch({f"c{i}": c for i, c in enumerate(chunk)}, halt=halt)
            for i in range(len(chunk)):
                key = f"c{i}"
                if key in br.errors:
                    out.append(CommandResult(False, None, br.errors[key]))
                elif key in br.result:
                    out.append(CommandResult(True, br.result[key]))
                else:
                    out.append(CommandResult(False, None, B24Error(NOT_EXECUTED, "not executed: halted")))
            if halt and br.errors:
                break
        halted = B24Error(NOT_EXECUTED, "not executed: halted")
        out += [CommandResult(False, None, halted) for _ in range(len(calls) - len(out))]
        return out

    batch_list = batch_many          # the name in docs/architecture.md

    # --- huge lists ---------------------------------------------------------------------------------
    def list_all(self, method: str, params: dict | None = None, id_key: str = "ID",
                 page_key: str | None = None) -> Iterator[dict]:
        """Every row once, in id order, in about ⌈N/2500⌉+1 HTTP calls (reference §7.5, §10): the
        huge-data pattern (``order {ID: ASC}``, ``filter {">ID": last}``, ``start: -1`` — no COUNT)
        with b24pysdk's ``as_list_fast`` chaining — one probe call, then batches of 50 list calls,
        each bounded by the previous one's last row: ``filter[>ID]=$result[p0][49][ID]``.
        crm.item.list nests rows under ``result.items`` and names the key ``id``; both are detected."""
        params = dict(params or {})
        if id_key == "ID" and method.lower().startswith("crm.item."):
            id_key = "id"
        filt = dict(params.pop("filter", None) or {})
        last = filt.pop(f">{id_key}", 0)
        select = params.get("select")
        if select and "*" not in select and id_key not in select:
            params["select"] = [*select, id_key]
        params.update(order={id_key: "ASC"}, start=-1)

        def bounded(bound) -> dict:
            return {**params, "filter": {**filt, f">{id_key}": bound}}

        rows, page_key = _rows(self.call(method, bounded(last)), page_key)
        yield from rows
        while len(rows) == PAGE:
            prev_last = last
            last = rows[-1][id_key]
            if _as_id(last) <= _as_id(prev_last):
                raise B24Error("LIST_NOT_ADVANCING", f"{method} ignored filter >{id_key}={prev_last}")
            path = f"[{page_key}]" if page_key else ""
            cmds = {f"p{i}": (method, bounded(last if i == 0 else f"$result[p{i - 1}]{path}[{PAGE - 1}][{id_key}]"))
                    for i in range(BATCH_MAX)}
            br = self.batch(cmds)
            for i in range(BATCH_MAX):
                key = f"p{i}"
                if key in br.errors:        # later commands chain off this one; nothing after it is valid
                    raise br.errors[key]
                rows, _ = _rows(br.result.get(key, []), page_key)
                yield from rows
                if len(rows) < PAGE:        # the end; commands after it ran on a dangling reference
                    return


def _rows(result, page_key: str | None) -> tuple[list, str | None]:
    if page_key is None and isinstance(result, dict) and isinstance(result.get("items"), list):
        page_key = "items"
    if page_key:
        return list(_map(result).get(page_key) or []), page_key
    if isinstance(result, dict):             # some legacy lists answer an id-keyed object
        return list(result.values()), None
    return list(result or []), None


def _as_id(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return str(v)
