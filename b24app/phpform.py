"""PHP-style nested form keys, both ways: the one codec of the app and of its sandbox (reference §2.2, §4.3).

Bitrix24 speaks PHP arrays in urlencoded forms. Events, robot calls, frames and installs arrive with keys
like ``data[FIELDS][ID]=7`` and ``auth[member_id]=…``, every scalar a string; REST parameters and batch
commands go the same way (``fields[TITLE]=x&select[0]=ID``). ``encode`` flattens as PHP's
``http_build_query`` does; ``decode`` nests as PHP builds ``$_POST``: ``[]`` appends (at the largest list
position so far + 1), later values win, a key with unbalanced brackets stays whole, and arrays keyed
exactly ``0..n-1`` become lists (PHP's JSON of them). b24pysdk's ``parse_flattened_keys`` drops ``a[]``
appends and repeated keys (robot properties marked Multiple arrive as ``properties[x][]=1&…[]=2``), hence
this module.

On our edges ``decode`` runs before anyone is authenticated, so it is linear in the input and, given
``Limits``, bounded: more fields or a deeper key than allowed raises ``FormLimitError`` before any nesting
work (b24app/forms.py holds the edge's limits). The sandbox decodes what clients post to its REST without
limits, as before: a real portal's own limits are far above anything a test sends.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

_BRACKETS = re.compile(r"\[([^\]]*)\]")
_INT_MAX = 2**63 - 1          # PHP_INT_MAX: a longer decimal key is a string key in PHP


class FormLimitError(ValueError):
    """The form is larger or deeper than any genuine call: the edge answers 400 with these words."""

    def __init__(self, error: str, description: str):
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


@dataclass(frozen=True)
class Limits:
    """At most ``fields`` pairs and ``depth`` bracket levels per key."""

    fields: int
    depth: int

    def too_many_fields(self, count: int) -> FormLimitError:
        return FormLimitError("FORM_TOO_LARGE", f"the form has more than {self.fields} fields ({count})")

    def too_deep(self) -> FormLimitError:
        return FormLimitError("FORM_TOO_DEEP", f"a form key is nested deeper than {self.depth} levels")


# --- encode ---------------------------------------------------------------------------------------
def encode(params: Mapping | list | tuple, *, strval: bool = False) -> list[tuple[str, str]]:
    """Nested data → ``[(key, value)]`` pairs: ``fields[TITLE]``, ``select[0]``, ``filter[>ID]``; empty
    arrays are omitted, as PHP does.

    Default: ``http_build_query``'s scalars (what we send a portal) — None omitted, True "1", False "0".
    ``strval=True``: every scalar as PHP's ``strval``, None and False → "" and kept — how the sandbox
    portal posts events, robot calls and installs."""
    pairs: list[tuple[str, str]] = []
    items = params.items() if isinstance(params, Mapping) else enumerate(params)
    for k, v in items:
        _encode(v, str(k), pairs, strval)
    return pairs


def _encode(value: Any, key: str, out: list, strval: bool) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _encode(v, f"{key}[{k}]", out, strval)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _encode(v, f"{key}[{i}]", out, strval)
    elif value is True:
        out.append((key, "1"))
    elif value is False:
        out.append((key, "" if strval else "0"))
    elif value is None:
        if strval:
            out.append((key, ""))
    else:
        out.append((key, str(value)))


# --- decode ---------------------------------------------------------------------------------------
def _is_index(key: str) -> bool:
    """A list position as PHP reads one: canonical ASCII decimal within PHP_INT_MAX. ``"²".isdigit()`` is
    true but ``int("²")`` fails, ``"01"`` and a 5,000-digit key are string keys (and no 500 on the way)."""
    if not (key.isdigit() and key.isascii()) or (key[0] == "0" and key != "0") or len(key) > 19:
        return False
    return int(key) <= _INT_MAX


def _split(key: str, limits: Limits | None) -> list[str]:
    """``a[b][]`` → ``["a", "b", ""]``; a key with unbalanced brackets stays whole (PHP keeps it flat)."""
    if limits is not None and key.count("[") > limits.depth:
        raise limits.too_deep()
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    rest = "[" + rest
    parts = _BRACKETS.findall(rest)
    if "".join(f"[{p}]" for p in parts) != rest:
        return [key]
    return [head] + parts


def decode(pairs: Iterable[tuple[str, Any]], limits: Limits | None = None) -> dict:
    """Nested dicts/lists from ``(key, value)`` pairs in order, as PHP's ``$_POST`` builds them.

    ``[]`` takes the node's next free position (its largest list position + 1), found once per node and
    then kept up to date, never recounted per append (which made 20,000 ``a[]=`` keys quadratic)."""
    root: dict = {}
    nexts: dict[int, list] = {}                 # id(node) → [next free position, node (kept alive)]

    def entry(node: dict) -> list:
        e = nexts.get(id(node))
        if e is None:
            e = nexts[id(node)] = [max((int(k) + 1 for k in node if _is_index(str(k))), default=0), node]
        return e

    for n, (key, value) in enumerate(pairs, 1):
        if limits is not None and n > limits.fields:
            raise limits.too_many_fields(n)
        parts = _split(str(key), limits)
        if not parts[0]:
            continue
        node = root
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if part == "":
                part = str(entry(node)[0])
            e = nexts.get(id(node))
            if e is not None and _is_index(part) and int(part) >= e[0]:
                e[0] = int(part) + 1
            if i == last:
                node[part] = value
                break
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
    return _lists(root)


def _lists(node: Any) -> Any:
    """PHP arrays keyed 0..n-1 are JSON lists on the portal side; keep that shape here too."""
    if not isinstance(node, dict):
        return node
    out = {k: _lists(v) for k, v in node.items()}
    if out and all(_is_index(k) for k in out) and sorted(int(k) for k in out) == list(range(len(out))):
        return [out[str(i)] for i in range(len(out))]
    return out
