"""Filter / order / page engine shared by the sandbox list methods.

Operators (reference §5.4; docs api-reference/crm/universal/crm-item-list.md, and the legacy
api-reference/crm/deals/crm-deal-list.md): a key is ``<prefix><FIELD>`` with prefix one of
``>= > <= < @ !@ % =% %= !% !=% !%= = != !`` (none = ``=``). A list value with ``=`` means IN.
Nested groups: any dict value (numeric key or ``logic`` inside) is a sub-filter combined with its own
``logic`` (``AND`` default, ``OR``). Comparisons are numeric when both sides are numbers, chronological
when both parse as dates, and case-insensitive text otherwise — MySQL's default collation is
case-insensitive, which is what portal users see.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from .registry import B24Fault

MSK = timezone(timedelta(hours=3))
PREFIXES = ("!=%", "!%=", ">=", "<=", "!@", "=%", "%=", "!%", "!=", ">", "<", "@", "%", "=", "!")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?([+-]\d{2}:?\d{2}|Z)?$")
_RU_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$")

Getter = Callable[[dict], Any]
Resolver = Callable[[str], "Getter | None"]


def field_of(key: str) -> Getter:
    """``row -> row.get(key)`` for a stored field. A plain function, not a ``FieldGetter``: the compiled
    filter's shortcuts for known keys stay off, as for the inline lambdas this replaced."""
    def get(row: dict):
        return row.get(key)
    return get


def upper_field(name: str) -> Getter:
    """The resolver of tables stored under upper-case keys: a filter's ``name`` reads ``row[NAME]``."""
    return field_of(name.upper())


def split_key(key: str) -> tuple[str, str]:
    for p in PREFIXES:
        if key.startswith(p) and len(key) > len(p):
            return p, key[len(p):]
    return "=", key


def to_dt(v: Any) -> datetime | None:
    """ISO (``2026-01-01``, ``2026-01-01T10:00:00+03:00``) or Russian ``01.01.2026 10:00:00``; naive = Moscow."""
    if not isinstance(v, str) or not v:
        return None
    s = v.strip()
    m = _RU_DATE.match(s)
    if m:
        d, mo, y, hh, mm, ss = m.groups()
        return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=MSK)
    if not _DATE.match(s):
        return None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=MSK)


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip()) if v.strip() else None
        except ValueError:
            return None
    return None


def _norm(v: Any) -> Any:
    if v is True:
        return "y"
    if v is False:
        return "n"
    return str(v).casefold() if v is not None else ""


def _cmp_pair(a: Any, b: Any):
    """Comparable forms of a row value and a filter value (or None if incomparable)."""
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na, nb
    da, db = to_dt(a), to_dt(b)
    if da is not None and db is not None:
        return da, db
    if a is None or b is None:
        return None
    return _norm(a), _norm(b)


def _eq(a: Any, b: Any) -> bool:
    if a is None or a == "" or a == []:
        return b in (None, "", False, 0, "0", "N") and not (isinstance(b, str) and b.upper() == "Y")
    if isinstance(a, bool) or isinstance(b, bool) or (isinstance(b, str) and b in ("Y", "N")):
        truthy = {"y", "1", "true"}
        return (_norm(a) in truthy) == (_norm(b) in truthy)
    pair = _cmp_pair(a, b)
    return pair is not None and pair[0] == pair[1]


def _like(a: Any, pattern: str) -> bool:
    """SQL LIKE with % and _ wildcards, case-insensitive."""
    rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(rx, str(a), re.IGNORECASE | re.DOTALL) is not None


def _values(v: Any) -> list:
    if isinstance(v, dict):
        return list(v.values())
    if isinstance(v, (list, tuple, set)):
        return list(v)
    return [v]


def _test(op: str, a: Any, b: Any) -> bool:
    """One comparison of a scalar row value ``a`` with filter value ``b``."""
    if op == "=":
        if isinstance(b, (list, tuple, dict)):
            return any(_eq(a, x) for x in _values(b))
        return _eq(a, b)
    if op in ("!", "!="):
        return not _test("=", a, b)
    if op == "@":
        vals = _values(b) if not isinstance(b, str) else [x for x in b.split(",")]
        return any(_eq(a, x) for x in vals)
    if op == "!@":
        return not _test("@", a, b)
    if op == "%":
        return a is not None and str(b).casefold() in str(a).casefold()
    if op in ("=%", "%="):
        return a is not None and _like(a, str(b))
    if op == "!%":
        return not _test("%", a, b)
    if op in ("!=%", "!%="):
        return not _test("=%", a, b)
    if a is None or a == "":
        return False
    if isinstance(b, (list, tuple, dict)):
        b = _values(b)[0] if _values(b) else None
    pair = _cmp_pair(a, b)
    if pair is None:
        return False
    x, y = pair
    try:
        return {">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[op]
    except TypeError:
        return False


def _field_test(op: str, getter: Getter, value: Any) -> Callable[[dict], bool]:
    negative = op in ("!", "!=", "!@", "!%", "!=%", "!%=")

    def pred(row: dict) -> bool:
        a = getter(row)
        if isinstance(a, (list, tuple)):        # multiple fields: any element matches (none for negations)
            if negative:
                return not any(_test(op.lstrip("!") or "=", x, value) for x in a) if a else True
            return any(_test(op, x, value) for x in a)
        return _test(op, a, value)

    return pred


def reference_filter(filt: Any, resolve: Resolver, on_unknown: Callable[[str], None] | None = None
                     ) -> Callable[[dict], bool]:
    """The plain evaluator (every comparison re-parses both sides): the specification that
    ``compile_filter`` must match row for row (tests/sandbox/test_filter_equivalence.py)."""
    if not filt:
        return lambda row: True
    if isinstance(filt, list):
        filt = {str(i): v for i, v in enumerate(filt)}
    if not isinstance(filt, dict):
        return lambda row: True
    logic = str(filt.get("logic") or filt.get("LOGIC") or "AND").upper()
    preds: list[Callable[[dict], bool]] = []
    for key, value in filt.items():
        if str(key).lower() == "logic":
            continue
        if isinstance(value, dict) and (str(key).isdigit() or "logic" in value or "LOGIC" in value):
            preds.append(reference_filter(value, resolve, on_unknown))
            continue
        op, name = split_key(str(key))
        getter = resolve(name)
        if getter is None:
            if on_unknown:
                on_unknown(name)
            continue
        preds.append(_field_test(op, getter, value))
    if not preds:
        return lambda row: True
    if logic == "OR":
        return lambda row: any(p(row) for p in preds)
    if len(preds) == 1:
        return preds[0]
    return lambda row: all(p(row) for p in preds)


def _sort_key(v: Any):
    n = _num(v) if not isinstance(v, str) or not to_dt(v) else None
    if v is None or v == "":
        return (0, 0, "")
    if n is not None:
        return (1, n, "")
    d = to_dt(v)
    if d is not None:
        return (1, d.timestamp(), "")
    return (2, 0, _norm(v))


def parse_order(order: Any, resolve: Resolver, on_unknown: Callable[[str], None] | None = None
                ) -> list[tuple[str, Getter, bool]]:
    """``{"ID": "ASC", "TITLE": "desc"}`` → [(name, getter, descending)]."""
    out = []
    if not isinstance(order, dict):
        return out
    for name, direction in order.items():
        getter = resolve(str(name))
        if getter is None:
            if on_unknown:
                on_unknown(str(name))
            continue
        d = str(direction or "ASC").upper()
        if d not in ("ASC", "DESC"):
            raise B24Fault("INVALID_ARG_VALUE", f"Invalid order: direction '{direction}' is not allowed", 400)
        out.append((str(name), getter, d == "DESC"))
    return out


def reference_select_rows(rows: Iterable[dict], pred: Callable[[dict], bool], order: list, offset: int, limit: int,
                count: bool, id_ordered: bool = True) -> tuple[list[dict], int | None]:
    """Filter, sort and page. When no order beyond ``ID ASC`` is asked and no COUNT is wanted, rows (which
    are stored in id order) are scanned lazily and the scan stops at ``offset + limit`` — the
    huge-data export path of reference §7.5. The plain version, kept as the specification."""
    id_asc = not order or (len(order) == 1 and order[0][0].upper() == "ID" and not order[0][2])
    if id_asc and id_ordered and not count:
        out = []
        skip = offset
        for row in rows:
            if pred(row):
                if skip:
                    skip -= 1
                    continue
                out.append(row)
                if len(out) >= limit:
                    break
        return out, None
    matched = [r for r in rows if pred(r)]
    for _name, getter, desc in reversed(order):
        matched.sort(key=lambda r, g=getter: _sort_key(g(r)), reverse=desc)
    total = len(matched) if count else None
    return matched[offset:offset + limit], total


def page_of(start: Any, page_size: int = 50) -> tuple[int, bool]:
    """(offset, count?) from ``start``: page = floor(start/50)+1 (src getNavData); ``-1`` = no COUNT."""
    try:
        s = int(start or 0)
    except (TypeError, ValueError):
        s = 0
    if s < 0:
        return 0, False
    return (s // page_size) * page_size, True


# The list methods use the compiled path; the plain functions above stay as its specification. Resolved
# lazily (PEP 562) so that importing either module first works.
_COMPILED = ("FieldGetter", "compile_filter", "query_key", "restrict", "result_cache", "select_rows",
             "select_table")


def __getattr__(name: str):
    if name in _COMPILED:
        from . import filter_compiler

        return getattr(filter_compiler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
