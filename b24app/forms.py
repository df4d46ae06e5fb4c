"""PHP-style nested form keys → dict, the way the portal means them (reference §2.2, §4.3).

Events and robot calls arrive as ``application/x-www-form-urlencoded`` with keys like
``data[FIELDS][ID]=7`` and ``auth[member_id]=…``; every scalar is a string. b24pysdk's
``parse_flattened_keys`` does the same job but drops ``a[]`` appends and repeated keys (robot
properties marked Multiple arrive as ``properties[x][]=1&properties[x][]=2``), so this module keeps
PHP's semantics: ``[]`` appends, later values win, dicts keyed ``0..n-1`` become lists.

The parse runs before anyone is authenticated, so it is linear in the input and bounded: more than
``MAX_FIELDS`` fields or a key nested deeper than ``MAX_DEPTH`` is refused (``FormLimitError``) before
any nesting work — a genuine portal form has a few dozen fields and a handful of levels.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

_BRACKETS = re.compile(r"\[([^\]]*)\]")
MAX_FIELDS = 2000
MAX_DEPTH = 32


class FormLimitError(ValueError):
    """The form is larger or deeper than any genuine call: the edge answers 400 with these words."""

    def __init__(self, error: str, description: str):
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


def too_many_fields(count: int) -> FormLimitError:
    return FormLimitError("FORM_TOO_LARGE", f"the form has more than {MAX_FIELDS} fields ({count})")


def check_body(body: bytes) -> None:
    """A cheap look at a raw urlencoded body (one ``count``) before it is split into fields at all."""
    count = body.count(b"&") + 1 if body else 0
    if count > MAX_FIELDS:
        raise too_many_fields(count)


def _is_index(key: str) -> bool:
    """A list position: ASCII digits only (``"²".isdigit()`` is true, but ``int("²")`` fails)."""
    return key.isdigit() and key.isascii()


def _split(key: str) -> list[str]:
    """``a[b][]`` → ``["a", "b", ""]``; a key with unbalanced brackets stays whole (PHP keeps it flat)."""
    if key.count("[") > MAX_DEPTH:
        raise FormLimitError("FORM_TOO_DEEP", f"a form key is nested deeper than {MAX_DEPTH} levels")
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    rest = "[" + rest
    parts = _BRACKETS.findall(rest)
    if "".join(f"[{p}]" for p in parts) != rest:
        return [key]
    return [head] + parts


def parse_pairs(pairs: Iterable[tuple[str, Any]]) -> dict:
    """Nested dicts from ``(key, value)`` pairs in order, as PHP's ``$_POST`` builds them.

    ``[]`` takes the next position = how many list-position keys the node already has; that count is
    kept per node (not recounted on every append, which made 20,000 ``a[]=`` keys quadratic)."""
    root: dict = {}
    counts: dict[int, list] = {}                # id(node) → [list-position keys in it, node (kept alive)]

    def entry(node: dict) -> list:
        e = counts.get(id(node))
        if e is None:
            e = counts[id(node)] = [sum(1 for k in node if _is_index(str(k))), node]
        return e

    for n, (key, value) in enumerate(pairs, 1):
        if n > MAX_FIELDS:
            raise too_many_fields(n)
        parts = _split(str(key))
        if not parts[0]:
            continue
        node = root
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if part == "":
                part = str(entry(node)[0])
            if _is_index(part) and part not in node and id(node) in counts:
                counts[id(node)][0] += 1
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


def parse_form(form) -> dict:
    """A werkzeug ``MultiDict`` (``request.form``) or a plain mapping → nested dict."""
    if hasattr(form, "items") and hasattr(form, "getlist"):
        return parse_pairs(form.items(multi=True))
    return parse_pairs(form.items())


def parse_request(request) -> dict:
    """A Flask/werkzeug request's form, bounded: the raw urlencoded body is counted before werkzeug
    splits it, the fields before they are nested. Raises FormLimitError."""
    if request.mimetype == "application/x-www-form-urlencoded":
        check_body(request.get_data(cache=True, parse_form_data=False))
    return parse_form(request.form)
