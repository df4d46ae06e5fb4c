"""PHP-style nested form keys, both ways: the portal parses ``fields[TITLE]=x&select[]=ID`` into arrays
(and batch command queries the same way), and posts events/frames with ``data[FIELDS][ID]=5`` keys
and every scalar as a string (reference §2.2)."""
from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlencode

_KEY = re.compile(r"^([^\[]*)((?:\[[^\]]*\])*)(.*)$")


def _split(key: str) -> list[str]:
    m = _KEY.match(key)
    head, brackets, rest = m.group(1), m.group(2), m.group(3)
    if not brackets or rest:          # "a]b" or "a[b" → PHP keeps it flat-ish; we keep it whole
        return [key]
    return [head] + re.findall(r"\[([^\]]*)\]", brackets)


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict:
    """Build nested dicts/lists from (key, value) pairs the way PHP's $_REQUEST does.

    ``a[]=1&a[]=2`` → list; numeric or named sub-keys → dict (PHP arrays), later values win.
    Dicts whose keys are exactly 0..n-1 become lists, matching PHP's JSON encoding of them.
    """
    root: dict = {}
    for key, value in pairs:
        parts = _split(key)
        if not parts[0]:
            continue
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if part == "":
                    if last:
                        node.append(value)
                        break
                    node.append({})
                    node = node[-1]
                    continue
                node = _as_dict(node)
            if part == "" and not last:
                part = str(_next_index(node))
            if last:
                if part == "":
                    part = str(_next_index(node))
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, (dict, list)):
                    child = [] if parts[i + 1] == "" else {}
                    node[part] = child
                node = child
    return _normalise(root)


def _as_dict(lst: list) -> dict:
    return {str(i): v for i, v in enumerate(lst)}


def _next_index(d: dict) -> int:
    ints = [int(k) for k in d if k.isdigit()]
    return max(ints) + 1 if ints else 0


def _normalise(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _normalise(v) for k, v in node.items()}
        if out and all(k.isdigit() for k in out) and sorted(int(k) for k in out) == list(range(len(out))):
            return [out[str(i)] for i in range(len(out))]
        return out
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return node


def parse_query(query: str) -> dict:
    """``"fields[TITLE]=x&select[]=ID"`` → ``{"fields": {"TITLE": "x"}, "select": ["ID"]}``."""
    return parse_pairs(parse_qsl(query, keep_blank_values=True))


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested data → PHP form pairs with string scalars (bool → "1"/"", None → "")."""
    pairs: list[tuple[str, str]] = []
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, (list, tuple)):
        items = enumerate(data)
    else:
        return [(prefix, _scalar(data))]
    for k, v in items:
        key = f"{prefix}[{k}]" if prefix else str(k)
        if isinstance(v, (dict, list, tuple)):
            if not v:
                continue            # PHP http_build_query drops empty arrays
            pairs.extend(flatten(v, key))
        else:
            pairs.append((key, _scalar(v)))
    return pairs


def _scalar(v: Any) -> str:
    if v is True:
        return "1"
    if v is False or v is None:
        return ""
    return str(v)


def encode(data: dict) -> str:
    return urlencode(flatten(data))
