"""PHP-style nested form keys → dict, the way the portal means them (reference §2.2, §4.3).

Events and robot calls arrive as ``application/x-www-form-urlencoded`` with keys like
``data[FIELDS][ID]=7`` and ``auth[member_id]=…``; every scalar is a string. b24pysdk's
``parse_flattened_keys`` does the same job but drops ``a[]`` appends and repeated keys (robot
properties marked Multiple arrive as ``properties[x][]=1&properties[x][]=2``), so this module keeps
PHP's semantics: ``[]`` appends, later values win, dicts keyed ``0..n-1`` become lists.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def _split(key: str) -> list[str]:
    """``a[b][]`` → ``["a", "b", ""]``; a key with unbalanced brackets stays whole (PHP keeps it flat)."""
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    rest = "[" + rest
    parts = _BRACKETS.findall(rest)
    if "".join(f"[{p}]" for p in parts) != rest:
        return [key]
    return [head] + parts


def parse_pairs(pairs: Iterable[tuple[str, Any]]) -> dict:
    """Nested dicts from ``(key, value)`` pairs in order, as PHP's ``$_POST`` builds them."""
    root: dict = {}
    for key, value in pairs:
        parts = _split(str(key))
        if not parts[0]:
            continue
        node = root
        for i, part in enumerate(parts):
            if part == "":
                part = str(sum(1 for k in node if str(k).isdigit()))
            if i == len(parts) - 1:
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
    if out and all(k.isdigit() for k in out) and sorted(int(k) for k in out) == list(range(len(out))):
        return [out[str(i)] for i in range(len(out))]
    return out


def parse_form(form) -> dict:
    """A werkzeug ``MultiDict`` (``request.form``) or a plain mapping → nested dict."""
    if hasattr(form, "items") and hasattr(form, "getlist"):
        return parse_pairs(form.items(multi=True))
    return parse_pairs(form.items())
