"""``batch`` (reference §7.2): up to 50 ``"method?query"`` commands run with the caller's auth, each
checked like a direct call; ``$result[key][path]`` references are substituted after the query is
parsed PHP-style (a whole-value reference keeps arrays, an embedded one interpolates scalars only)."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from b24app import phpform

from . import calls
from .filter_compiler import result_cache
from .portal import RequestRecord
from .registry import B24Fault, CallContext

BATCH_MAX_LENGTH = 50
NOT_ALLOWED = {"batch"}


def _empty_as_list(d: dict):
    return d if d else []


def run_batch(ctx: CallContext, params: dict) -> dict:
    portal = ctx.portal
    cmd = params.get("cmd") or {}
    halt = str(params.get("halt", "0")).lower() in ("1", "true", "y")
    items = list(cmd.items()) if isinstance(cmd, dict) else list(enumerate(cmd))
    items = [(str(k), v) for k, v in items if isinstance(v, str)]   # non-strings are silently skipped
    maps = {"result": {}, "result_error": {}, "result_total": {}, "result_next": {}, "result_time": {}}
    with result_cache():                         # offset pages of one query share its filtered rows
        _run(portal, ctx, items, halt, maps)
    return {k: _empty_as_list(v) for k, v in maps.items()}


def _run(portal, ctx: CallContext, items: list, halt: bool, maps: dict) -> None:
    for index, (key, command) in enumerate(items):
        if index >= BATCH_MAX_LENGTH:
            maps["result_error"][key] = {"error": "ERROR_BATCH_LENGTH_EXCEEDED",
                                         "error_description": "Max batch length exceeded"}
            continue
        parts = urlsplit(command)
        method = parts.path.strip().lower().removesuffix(".json")
        sub_params = _substitute(phpform.decode(parse_qsl(parts.query, keep_blank_values=True)), maps)
        if method in NOT_ALLOWED:
            out = calls.Outcome(error=B24Fault("ERROR_BATCH_METHOD_NOT_ALLOWED",
                                               "Method is not allowed for batch usage", 400))
        else:
            sub_params.pop("auth", None)
            out = calls.call_method(portal, ctx, method, sub_params)
        portal.record(RequestRecord(method=method, params=sub_params, auth_kind=ctx.auth_kind,
                                    client_id=ctx.client_id, status=out.error.status if out.error else 200,
                                    error=out.error.code if out.error else None, time=portal.clock.now(),
                                    user_id=ctx.user_id, via="batch"))
        if out.error is not None:
            maps["result_error"][key] = calls.error_body(out.error)
            if halt:
                break
            continue
        maps["result"][key] = out.result
        if out.total is not None:
            maps["result_total"][key] = out.total
        if out.next is not None:
            maps["result_next"][key] = out.next
        maps["result_time"][key] = out.time


# --- references --------------------------------------------------------------------------------------
_SOURCES = {"result": "result", "next": "result_next", "total": "result_total", "time": "result_time",
            "error": "result_error"}


def _ref_pattern(maps: dict) -> re.Pattern | None:
    keys = set()
    for name in _SOURCES.values():
        keys.update(maps[name].keys())
    if not keys:
        return None
    alt = "|".join(sorted((re.escape(k) for k in keys), key=len, reverse=True))
    return re.compile(r"\$(result|next|total|time|error)\[(" + alt + r")\]((?:\[[^\]]*\])*)")


def _resolve(maps: dict, source: str, key: str, path: str):
    node = maps[_SOURCES[source]].get(key)
    for part in re.findall(r"\[([^\]]*)\]", path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            break                                    # stops at the deepest existing node (src)
    return node


def _substitute(value, maps: dict):
    pattern = _ref_pattern(maps)
    if pattern is None:
        return value
    return _walk(value, pattern, maps)


def _walk(value, pattern, maps):
    if isinstance(value, dict):
        return {k: _walk(v, pattern, maps) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, pattern, maps) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = pattern.fullmatch(value)
    if whole:
        return _resolve(maps, whole.group(1), whole.group(2), whole.group(3))

    def scalar(m):
        v = _resolve(maps, m.group(1), m.group(2), m.group(3))
        if isinstance(v, (dict, list)):
            return m.group(0)
        if v is True:
            return "1"
        if v is None or v is False:
            return ""
        return str(v)

    return pattern.sub(scalar, value)
