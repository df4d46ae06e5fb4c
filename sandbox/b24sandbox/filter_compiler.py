"""The fast filter / page path of the sandbox list methods — same answers as ``filters.reference_filter`` and
``filters.reference_select_rows``, without their per-row cost.

Why: every test and bench reads the portal through these lists; the plain evaluator re-parsed the filter
value (float(), date regex, LIKE pattern) for every row and scanned every row before a ``>ID`` bound, so a
batch of 50 keyset pages cost seconds. Here each condition is compiled once per call (the filter side is
parsed once), row-side conversions of strings are memoised (pure functions of the string), a top-level
``>ID``/``>=ID``/``<ID``/``<=ID`` bound bisects into the table's sorted id index, and ``ORDER ID ASC`` over
that index needs no sort. Inside one ``batch`` (``result_cache``) the filtered, ordered rows of a query are
kept for the offset pages that follow, until the table's ``data_version`` moves. Thread-safety: callers hold
``db.lock``; the memo dicts are only ever read, set or cleared whole (atomic under the GIL)."""
from __future__ import annotations

import json
import operator
import re
import threading
from bisect import bisect_left, bisect_right
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .filters import _norm, _num, _values, reference_select_rows, split_key, to_dt

_TRUTHY = {"y", "1", "true"}
_MISS = object()
_MEMO_MAX = 200_000
_NUM_MEMO: dict[str, Any] = {}
_DT_MEMO: dict[str, Any] = {}
_SORT_MEMO: dict[str, Any] = {}
_NEGATIVE = ("!", "!=", "!@", "!%", "!=%", "!%=")
_CMP = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
INDEXED_DATES = ("DATE_MODIFY",)       # b_crm_deal & co. carry an index on DATE_MODIFY; we keep one too
_cost = threading.local()


# --- what a call costs the portal's database --------------------------------------------------------------
def examined(rows: int) -> None:
    """Count rows the portal's database would have read for this call (``calls.call_method`` turns them
    into operating time): a COUNT reads every candidate row, an offset page reads the rows it skips."""
    _cost.rows = getattr(_cost, "rows", 0) + int(rows)


@contextmanager
def costing() -> Iterator[list]:
    """Rows examined inside this scope (one method call; nested calls keep their own count)."""
    prev = getattr(_cost, "rows", 0)
    _cost.rows = 0
    out = [0]
    try:
        yield out
    finally:
        out[0] = _cost.rows
        _cost.rows = prev


class FieldGetter:
    """``row -> row.get(key)`` that says which stored field it reads (lets the compiler see ``>ID``)."""

    __slots__ = ("key",)

    def __init__(self, key: str):
        self.key = key

    def __call__(self, row: dict):
        return row.get(self.key)


def _memo(table: dict, fn, v):
    r = table.get(v, _MISS)
    if r is _MISS:
        r = fn(v)
        if len(table) >= _MEMO_MAX:
            table.clear()
        table[v] = r
    return r


def num_of(v: Any):
    """``filters._num`` memoised for strings."""
    t = type(v)
    if t is int:
        return float(v)
    if t is str:
        return _memo(_NUM_MEMO, _num, v)
    return _num(v)


def dt_of(v: Any):
    """``filters.to_dt`` memoised (None for anything but a string, like to_dt)."""
    if type(v) is str:
        return _memo(_DT_MEMO, to_dt, v)
    return to_dt(v)


def _sort_key_raw(v: Any):
    n = num_of(v) if not isinstance(v, str) or not dt_of(v) else None
    if v is None or v == "":
        return (0, 0, "")
    if n is not None:
        return (1, n, "")
    d = dt_of(v)
    if d is not None:
        return (1, d.timestamp(), "")
    return (2, 0, _norm(v))


def sort_key(v: Any):
    """``filters._sort_key`` memoised for strings."""
    if type(v) is str:
        return _memo(_SORT_MEMO, _sort_key_raw, v)
    return _sort_key_raw(v)


# --- one comparison, the filter value parsed once -------------------------------------------------------
def _eq_fn(b: Any) -> Callable[[Any], bool]:
    """``filters._eq(a, b)`` as ``a -> bool``."""
    empty = b in (None, "", False, 0, "0", "N") and not (isinstance(b, str) and b.upper() == "Y")
    boolish = isinstance(b, bool) or (isinstance(b, str) and b in ("Y", "N"))
    truthy_b = _norm(b) in _TRUTHY
    nb, db_ = _num(b), to_dt(b)
    b_none = b is None
    norm_b = None if b_none else _norm(b)

    def eq(a):
        if a is None or a == "" or a == []:
            return empty
        if boolish or isinstance(a, bool):
            return (_norm(a) in _TRUTHY) == truthy_b
        if nb is not None:
            na = num_of(a)
            if na is not None:
                return na == nb
        if db_ is not None:
            da = dt_of(a)
            if da is not None:
                return da == db_
        if b_none:
            return False
        return (a.casefold() if type(a) is str else _norm(a)) == norm_b

    return eq


def _any_fn(fns: list) -> Callable[[Any], bool]:
    if len(fns) == 1:
        return fns[0]

    def any_of(a):
        for f in fns:
            if f(a):
                return True
        return False

    return any_of


def _cmp_fn(op: str, b: Any) -> Callable[[Any], bool]:
    """``filters._test`` for ``> >= < <=``."""
    if isinstance(b, (list, tuple, dict)):
        vals = _values(b)
        b = vals[0] if vals else None
    nb, db_ = _num(b), to_dt(b)
    b_none = b is None
    norm_b = None if b_none else _norm(b)
    cmp = _CMP[op]

    def test(a):
        if a is None or a == "":
            return False
        if nb is not None:
            na = num_of(a)
            if na is not None:
                return cmp(na, nb)
        if db_ is not None:
            da = dt_of(a)
            if da is not None:
                return cmp(da, db_)
        if b_none:
            return False
        return cmp(a.casefold() if type(a) is str else _norm(a), norm_b)

    return test


def _like_rx(pattern: str):
    rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(rx, re.IGNORECASE | re.DOTALL)


def _positive_fn(op: str, b: Any) -> Callable[[Any], bool]:
    """``filters._test(op, a, b)`` for a positive ``op`` as ``a -> bool``."""
    if op == "=":
        if isinstance(b, (list, tuple, dict)):
            fns = [_eq_fn(x) for x in _values(b)]
            if not fns:
                return lambda a: False
            return _any_fn(fns)
        return _eq_fn(b)
    if op == "@":
        vals = _values(b) if not isinstance(b, str) else b.split(",")
        if not vals:
            return lambda a: False
        return _any_fn([_eq_fn(x) for x in vals])
    if op == "%":
        needle = str(b).casefold()
        return lambda a: a is not None and needle in str(a).casefold()
    if op in ("=%", "%="):
        rx = _like_rx(str(b))
        return lambda a: a is not None and rx.fullmatch(str(a)) is not None
    return _cmp_fn(op, b)


def _field_pred(op: str, getter, value: Any) -> Callable[[dict], bool]:
    """``filters._field_test``: multiple fields match if any element does (none, for a negation)."""
    negative = op in _NEGATIVE
    base = _positive_fn((op.lstrip("!") or "=") if negative else op, value)
    key = getter.key if isinstance(getter, FieldGetter) else None
    if negative:
        def pred(row):
            a = row.get(key) if key is not None else getter(row)
            if isinstance(a, (list, tuple)):
                for x in a:
                    if base(x):
                        return False
                return True
            return not base(a)
    else:
        def pred(row):
            a = row.get(key) if key is not None else getter(row)
            if isinstance(a, (list, tuple)):
                for x in a:
                    if base(x):
                        return True
                return False
            return base(a)
    return pred


def _true(row) -> bool:
    return True


def compile_filter(filt: Any, resolve, on_unknown: Callable[[str], None] | None = None, *, _top: bool = True
                   ) -> Callable[[dict], bool]:
    """Turn a filter dict into ``row -> bool``. ``resolve(field)`` gives a getter or None (unknown field:
    ``on_unknown(field)`` may raise, else the condition is ignored like the legacy API does). The returned
    function carries ``id_bounds``: top-level AND conditions ``(op, number)`` on the stored ``ID``, or
    ``("never", 0)`` for a comparison with no value, which no row passes."""
    if not filt:
        return _true
    if isinstance(filt, list):
        filt = {str(i): v for i, v in enumerate(filt)}
    if not isinstance(filt, dict):
        return _true
    logic = str(filt.get("logic") or filt.get("LOGIC") or "AND").upper()
    preds: list[Callable[[dict], bool]] = []
    id_preds: list[Callable[[dict], bool]] = []          # AND checks these first: cheap, and often decisive
    bounds: list[tuple[str, float]] = []
    dates: list[tuple[str, str, Any]] = []               # (field, op, datetime): an index range to read
    for key, value in filt.items():
        if str(key).lower() == "logic":
            continue
        if isinstance(value, dict) and (str(key).isdigit() or "logic" in value or "LOGIC" in value):
            preds.append(compile_filter(value, resolve, on_unknown, _top=False))
            continue
        op, name = split_key(str(key))
        getter = resolve(name)
        if getter is None:
            if on_unknown:
                on_unknown(name)
            continue
        is_id = isinstance(getter, FieldGetter) and getter.key == "ID"
        (id_preds if is_id else preds).append(_field_pred(op, getter, value))
        if op in _CMP:
            b = value
            if isinstance(b, (list, tuple, dict)):
                vals = _values(b)
                b = vals[0] if vals else None
            nb = _num(b)
            if b is None:
                bounds.append(("never", 0.0))      # ``> None`` is false for every row (filters._test)
            elif is_id and nb is not None and nb == nb:
                bounds.append((op, nb))
            elif isinstance(getter, FieldGetter) and getter.key in INDEXED_DATES and to_dt(b) is not None:
                dates.append((getter.key, op, to_dt(b)))
    preds = id_preds + preds
    if not preds:
        return _true
    if logic == "OR":
        def pred(row):
            for p in preds:
                if p(row):
                    return True
            return False
        return pred
    if len(preds) == 1:
        pred = preds[0]
        if (bounds or dates) and _top:
            single = pred

            def pred(row):                     # a fresh function to carry the attribute
                return single(row)
    else:
        ps = tuple(preds)

        def pred(row):
            for p in ps:
                if not p(row):
                    return False
            return True
    if bounds and _top:
        pred.id_bounds = bounds
    if dates and _top:
        pred.date_bounds = dates
    return pred


def restrict(pred, allowed):
    """``pred`` AND ``allowed`` (the caller's READ permission, perms.read_filter), keeping ``pred``'s ID bounds
    so the permission costs one set lookup per row scanned, never a second pass. ``allowed`` None = no
    restriction (admins, users without a role): ``pred`` itself, no wrapper."""
    if allowed is None:
        return pred
    if pred is _true:
        def both(row):
            return allowed(row)
    else:
        def both(row):
            return allowed(row) and pred(row)
    for attr in ("id_bounds", "date_bounds"):
        if getattr(pred, attr, None):
            setattr(both, attr, getattr(pred, attr))
    return both


# --- pages ----------------------------------------------------------------------------------------------
def _is_id_asc(order: list) -> bool:
    return not order or (len(order) == 1 and order[0][0].upper() == "ID" and not order[0][2])


def select_rows(rows, pred, order: list, offset: int, limit: int, count: bool, id_ordered: bool = True
                ) -> tuple[list[dict], int | None]:
    """``filters.reference_select_rows`` with memoised sort keys (any iterable of rows)."""
    if _is_id_asc(order) and id_ordered and not count:
        return reference_select_rows(rows, pred, order, offset, limit, count, id_ordered)
    matched = [r for r in rows if pred(r)]
    _sort(matched, order)
    total = len(matched) if count else None
    return matched[offset:offset + limit], total


def _sort(matched: list, order: list) -> None:
    for _name, getter, desc in reversed(order):
        matched.sort(key=lambda r, g=getter: sort_key(g(r)), reverse=desc)


def _range(ids: list, bounds: list) -> tuple[int, int]:
    lo, hi = 0, len(ids)
    for op, v in bounds:
        if op == ">":
            lo = max(lo, bisect_right(ids, v))
        elif op == ">=":
            lo = max(lo, bisect_left(ids, v))
        elif op == "<":
            hi = min(hi, bisect_left(ids, v))
        elif op == "<=":
            hi = min(hi, bisect_right(ids, v))
        else:                                       # "never"
            hi = lo
    return lo, max(lo, hi)


_scope = threading.local()


@contextmanager
def result_cache() -> Iterator[None]:
    """Scope (one batch request, this thread) in which ``select_table`` keeps each query's matched rows.
    Scoped, not global: a row changed behind the API's back (a test poking ``db``) cannot outlive it."""
    prev = getattr(_scope, "cache", None)
    _scope.cache = {}
    try:
        yield
    finally:
        _scope.cache = prev


def query_key(*parts: Any) -> str:
    """Cache key of a list query from its parameters as received (order of keys kept: it matters)."""
    return json.dumps(parts, ensure_ascii=False, default=repr)


def select_table(table, pred, order: list, offset: int, limit: int, count: bool, cache_key: str | None = None
                 ) -> tuple[list[dict], int | None]:
    """``select_rows`` over a ``db.Table``: rows outside a top-level ID bound are never looked at (they
    cannot match), a top-level ``DATE_MODIFY`` bound reads only its range of the table's date index, and
    ``ORDER ID ASC`` over the ascending index is already in order. With ``cache_key`` inside
    ``result_cache()`` the matched rows are reused while the table's data is unchanged.

    Cost, as the portal's database pays it (``examined``): an offset page (``start`` ≥ 0) COUNTs every
    candidate row and then reads the rows it skips; a keyset page (``start=-1``, ORDER ID ASC) reads the
    candidate rows up to its 50th match. The sandbox's own shortcuts (the result cache) do not discount it."""
    index = table.id_index()
    if index is None:
        examined(len(table.rows) + (offset + limit if count else 0))
        return select_rows(table.rows.values(), pred, order, offset, limit, count)
    ids, rows = index
    dates = getattr(pred, "date_bounds", None)
    if dates:
        ids, rows = _date_candidates(table, dates)
    id_asc = _is_id_asc(order)
    cache = getattr(_scope, "cache", None) if cache_key is not None else None
    if cache is not None and not (id_asc and not count):
        stamp = (table.data_version, table.version, len(table.rows))
        hit = cache.get(cache_key)
        if hit is not None and hit[0] is table and hit[1] == stamp:
            matched, scanned = hit[2], hit[3]
        else:
            matched, scanned = _matched(rows, ids, pred, order, id_asc)
            cache[cache_key] = (table, stamp, matched, scanned)
        examined(scanned + (offset + limit if count else 0))
        return matched[offset:offset + limit], (len(matched) if count else None)
    lo, hi = _range(ids, getattr(pred, "id_bounds", ()))
    if id_asc and not count:
        out = []
        skip = offset
        i = lo
        for i in range(lo, hi):
            row = rows[i]
            if pred(row):
                if skip:
                    skip -= 1
                    continue
                out.append(row)
                if len(out) >= limit:
                    break
        examined(i - lo + 1 if hi > lo else 0)
        return out, None
    matched, scanned = _matched(rows, ids, pred, order, id_asc)
    examined(scanned + (offset + limit if count else 0))
    total = len(matched) if count else None
    return matched[offset:offset + limit], total


def _date_candidates(table, dates) -> tuple[list, list]:
    """The rows inside every date bound, from the table's sorted date index, back in id order."""
    picked = None
    for field, op, bound in dates:
        keys, by_date = table.date_index(field, dt_of)
        lo, hi = _range(keys, [(op, bound.timestamp())])
        ids = {r["ID"] for r in by_date[lo:hi]}
        picked = ids if picked is None else picked & ids
    rows = sorted((table.rows[i] for i in picked or ()), key=lambda r: r["ID"])
    return [r["ID"] for r in rows], rows


def _matched(rows: list, ids: list, pred, order: list, id_asc: bool) -> tuple[list, int]:
    """(matching rows in order, how many candidate rows were read for them)."""
    lo, hi = _range(ids, getattr(pred, "id_bounds", ()))
    matched = [r for r in rows[lo:hi] if pred(r)] if pred is not _true else rows[lo:hi]
    if not (id_asc and (not order or isinstance(order[0][1], FieldGetter) and order[0][1].key == "ID")):
        _sort(matched, order)
    return matched, hi - lo
