"""`$filter` of the 1C OData dialect, parsed and evaluated against in-memory rows.

Implements what our client sends and what the 1C docs promise for it: `eq ne gt ge lt le and or not`,
parentheses, v3 literals (`guid'…'`, `datetime'…'`, `'it''s'`, numbers, `true/false`, `null`),
`substringof startswith endswith like year month day cast isof`, and the `any`/`all` lambdas over a
tabular section. Type rules are strict on purpose, so client mistakes show up here as they would on a
real base: a Guid property compared with a string is an error, and a composite-type property compared
with a bare `guid'…'` silently matches nothing (1c-odata.md §1.3) — only `cast(guid'…','Document_X')`
matches it. Anything else raises `FilterError` with code "14" (query option parse error) or "21"
(function not implemented); the exact Russian texts of a real 1C are not reproduced.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class FilterError(Exception):
    def __init__(self, message: str, code: str = "14"):
        super().__init__(message)
        self.code = code


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<guid>guid'(?P<g>[0-9a-fA-F-]{36})')
  | (?P<datetime>datetime'(?P<d>[^']*)')
  | (?P<string>'(?P<s>(?:[^']|'')*)')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<punct>[(),:])
  | (?P<name>[^\W\d][\w]*(?:/[^\W\d][\w]*)*)
""", re.X)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
_UNSUPPORTED = {"length", "lenght", "indexof", "replace", "tolower", "toupper", "trim", "years", "days",
                "hours", "seconds", "floor", "ceiling", "concat", "substring"}


@dataclass(frozen=True)
class V:
    """A typed value: kind is guid | datetime | string | bool | number | null | cast | composite."""
    kind: str
    value: object


def tokenize(text: str) -> list[tuple[str, object]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FilterError(f"$filter: unexpected {text[pos:pos + 12]!r} at position {pos}")
        pos = m.end()
        kind = m.lastgroup        # the outer group: it closes after the inner g/d/s ones
        if kind == "ws":
            continue
        if kind == "guid":
            out.append(("lit", V("guid", m.group("g").lower())))
        elif kind == "datetime":
            try:
                value = datetime.fromisoformat(m.group("d"))
            except ValueError:
                raise FilterError(f"$filter: bad datetime literal {m.group(0)!r}") from None
            if value.tzinfo is not None:     # 1C dates are naive local time: 'Z' / '+03:00' do not parse
                raise FilterError(f"$filter: bad datetime literal {m.group(0)!r} (no time zone is allowed)")
            out.append(("lit", V("datetime", value)))
        elif kind == "string":
            out.append(("lit", V("string", m.group("s").replace("''", "'"))))
        elif kind == "number":
            out.append(("lit", V("number", Decimal(m.group(0)))))
        elif kind == "punct":
            out.append((m.group(0), None))
        else:
            word = m.group(0)
            if word in ("true", "false"):
                out.append(("lit", V("bool", word == "true")))
            elif word == "null":
                out.append(("lit", V("null", None)))
            elif word in _OPS or word in ("and", "or", "not"):
                out.append((word, None))
            else:
                out.append(("name", word))
    return out


class Env:
    """What an expression sees: the row, its property types, lambda variables bound to section rows."""

    def __init__(self, row: dict, types: dict[str, str], sections: dict[str, dict[str, str]], scope=None):
        self.row, self.types, self.sections, self.scope = row, types, sections, scope or {}


def typed(value, edm: str, composite: bool) -> V:
    if value is None:
        return V("null", None)
    if composite:
        return V("composite", (str(value).lower(), None))
    if edm == "Edm.Guid":
        return V("guid", str(value).lower())
    if edm == "Edm.DateTime":
        return V("datetime", datetime.fromisoformat(value))
    if edm == "Edm.Boolean":
        return V("bool", bool(value))
    if edm.startswith("Edm.Int") or edm in ("Edm.Double", "Edm.Decimal"):
        return V("number", Decimal(str(value)))
    return V("string", str(value))


def _prop(env: Env, path: str) -> V:
    head, _, rest = path.partition("/")
    if head in env.scope:                                   # lambda variable: d/Field
        row, types = env.scope[head]
    elif rest:
        raise FilterError(f"$filter: navigation path {path!r} is not supported by the 1C sandbox", "0")
    else:
        row, types, rest = env.row, env.types, head
    if rest not in types:
        raise FilterError(f"$filter: property {rest!r} not found", "10")
    value = row.get(rest)
    v = typed(value, types[rest], composite=f"{rest}_Type" in types)
    if v.kind == "composite":
        return V("composite", (v.value[0], row.get(f"{rest}_Type")))
    return v


def compare(a: V, op: str, b: V) -> bool:
    if a.kind == "composite" or b.kind == "composite":
        comp, other = (a, b) if a.kind == "composite" else (b, a)
        if op not in ("eq", "ne"):
            raise FilterError("$filter: composite-type values can only be compared with eq/ne")
        if other.kind == "cast":
            same = comp.value == other.value
        elif other.kind == "string":
            same = comp.value[0] == other.value.lower()
        else:
            same = False                                    # bare guid: 1C silently matches nothing
        return same if op == "eq" else not same
    if a.kind == "null" or b.kind == "null":
        if op not in ("eq", "ne"):
            return False
        same = a.kind == b.kind
        return same if op == "eq" else not same
    if a.kind != b.kind:
        raise FilterError(f"$filter: incompatible types in comparison ({a.kind} {op} {b.kind})")
    if op in ("eq", "ne"):
        return (a.value == b.value) == (op == "eq")
    if a.kind in ("bool", "guid", "cast"):
        raise FilterError(f"$filter: {op} is not defined for {a.kind}")
    x, y = a.value, b.value
    return {"gt": x > y, "ge": x >= y, "lt": x < y, "le": x <= y}[op]


class _Parser:
    def __init__(self, tokens):
        self.t, self.i = tokens, 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else (None, None)

    def take(self, kind=None):
        tok = self.peek()
        if kind is not None and tok[0] != kind:
            raise FilterError(f"$filter: expected {kind!r}, found {tok[1] if tok[0] == 'name' else tok[0]!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self.or_()
        if self.peek()[0] is not None:
            raise FilterError(f"$filter: unexpected {self.peek()!r} after a complete expression")
        return node

    def or_(self):
        node = self.and_()
        while self.peek()[0] == "or":
            self.take()
            left, right = node, self.and_()
            node = _keyed(lambda env, a=left, b=right: V("bool", _bool(a(env)) or _bool(b(env))),
                          _union(_keys_of(left), _keys_of(right)))
        return node

    def and_(self):
        node = self.unary()
        while self.peek()[0] == "and":
            self.take()
            left, right = node, self.unary()
            node = _keyed(lambda env, a=left, b=right: V("bool", _bool(a(env)) and _bool(b(env))),
                          _intersection(_keys_of(left), _keys_of(right)))
        return node

    def unary(self):
        if self.peek()[0] == "not":
            self.take()
            inner = self.unary()
            return lambda env: V("bool", not _bool(inner(env)))
        start = self.i
        left = self.operand()
        if self.peek()[0] in _OPS:
            op = self.take()[0]
            right = self.operand()
            node = lambda env: V("bool", compare(left(env), op, right(env)))  # noqa: E731
            toks = self.t[start:self.i]
            if (op == "eq" and len(toks) == 3 and toks[0] == ("name", "Ref_Key") and toks[2][0] == "lit"
                    and toks[2][1].kind == "guid"):
                node = _keyed(node, frozenset([("Ref_Key", toks[2][1].value)]))
            elif (op == "eq" and len(toks) == 8 and toks[0][0] == "name" and toks[2] == ("name", "cast")
                    and toks[4][0] == "lit" and toks[4][1].kind == "guid"):
                # `Dimension eq cast(guid'…', 'Type')`: a register's key dimension (the index is by value)
                node = _keyed(node, frozenset([(toks[0][1], toks[4][1].value)]))
            return node
        return left

    def operand(self):
        kind, val = self.take()
        if kind == "lit":
            return lambda env: val
        if kind == "(":
            node = self.or_()
            self.take(")")
            return node                      # keeps its candidate keys
        if kind != "name":
            raise FilterError(f"$filter: unexpected {kind!r}")
        if self.peek()[0] == "(":
            return self.call(val)
        return lambda env: _prop(env, val)

    def call(self, name: str):
        self.take("(")
        if name.endswith("/any") or name.endswith("/all"):
            section, fn = name.rsplit("/", 1)
            var = self.take("name")[1]
            self.take(":")
            body = self.or_()
            self.take(")")
            return lambda env: _lambda(env, section, fn, var, body)
        args = []
        if self.peek()[0] != ")":
            args.append(self.or_())
            while self.peek()[0] == ",":
                self.take()
                args.append(self.or_())
        self.take(")")
        if name in _UNSUPPORTED:
            raise FilterError(f"$filter: function {name}() is not supported by 1C OData", "21")
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise FilterError(f"$filter: unknown function {name}()", "21")
        return lambda env: fn(*[a(env) for a in args])


# --- candidate keys: `Ref_Key eq guid'…' or …` is answered from the key index, not a scan -------------
def _keyed(fn, keys):
    fn.keys = keys
    return fn


def _keys_of(node):
    return getattr(node, "keys", None)


def _union(a, b):
    return None if a is None or b is None else a | b


def _intersection(a, b):
    if a is None:
        return b
    return a if b is None else a & b


def _bool(v: V) -> bool:
    if v.kind != "bool":
        raise FilterError(f"$filter: a {v.kind} value where a condition was expected")
    return bool(v.value)


def _lambda(env: Env, section: str, fn: str, var: str, body) -> V:
    if section not in env.sections:
        raise FilterError(f"$filter: tabular section {section!r} not found", "10")
    rows = env.row.get(section) or []
    scope = dict(env.scope, **{var: None})
    results = []
    for r in rows:
        scope[var] = (r, env.sections[section])
        results.append(_bool(body(Env(env.row, env.types, env.sections, scope))))
    return V("bool", any(results) if fn == "any" else all(results))


def _str_args(*vals: V) -> list[str]:
    for v in vals:
        if v.kind not in ("string", "composite", "null"):
            raise FilterError(f"$filter: string function applied to {v.kind}", "21")
    return [("" if v.kind == "null" else v.value[0] if v.kind == "composite" else v.value) for v in vals]


def _like(field: V, pattern: V) -> V:
    s, p = _str_args(field, pattern)
    rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in p)
    return V("bool", re.fullmatch(rx, s, re.S | re.I) is not None)


def _part(attr):
    def fn(v: V) -> V:
        if v.kind != "datetime":
            raise FilterError(f"$filter: {attr}() needs a date", "21")
        return V("number", Decimal(getattr(v.value, attr)))
    return fn


def _cast(key: V, type_name: V) -> V:
    if key.kind != "guid" or type_name.kind != "string":
        raise FilterError("$filter: cast(guid'…', 'Type') expected", "21")
    return V("cast", (key.value, "StandardODATA." + type_name.value.removeprefix("StandardODATA.")))


def _isof(v: V, type_name: V) -> V:
    if v.kind != "composite":
        raise FilterError("$filter: isof() applies to composite-type properties", "21")
    want = "StandardODATA." + str(type_name.value).removeprefix("StandardODATA.")
    return V("bool", v.value[1] == want)


_FUNCTIONS = {
    "substringof": lambda needle, hay: V("bool", _str_args(needle)[0].lower() in _str_args(hay)[0].lower()),
    "startswith": lambda s, p: V("bool", _str_args(s)[0].startswith(_str_args(p)[0])),
    "endswith": lambda s, p: V("bool", _str_args(s)[0].endswith(_str_args(p)[0])),
    "like": _like,
    "year": _part("year"), "month": _part("month"), "day": _part("day"),
    "cast": _cast, "isof": _isof,
}


def compile_filter(text: str):
    """`text` → predicate(row, types, sections) -> bool. `predicate.keys` is the set of (key field, value)
    a matching row must have (from `Ref_Key eq guid'…'` terms joined by `or`/`and`), or None: the server
    looks those rows up by key and still applies the predicate, so the answer is what a scan would give —
    only faster (a batched key lookup over 10,000 documents was a full scan per request)."""
    node = _Parser(tokenize(text)).parse()

    def predicate(row: dict, types: dict[str, str], sections: dict[str, dict[str, str]]) -> bool:
        return _bool(node(Env(row, types, sections)))
    predicate.keys = _keys_of(node)
    return predicate
