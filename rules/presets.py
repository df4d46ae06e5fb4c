"""Shipped rule sets (rules/presets/<name>.json): a document with ``{{variable}}`` placeholders — stage
ids, field codes, people — and their defaults. Installing one substitutes the administrator's values
(a string that is exactly one placeholder takes the value's own type: a number stays a number) and
validates the result like any imported file."""
from __future__ import annotations

import json
import re
from importlib import resources

from b24app.errors import said

from . import model

_VAR = re.compile(r"\{\{([a-z0-9_]+)\}\}")


class PresetError(model.RulesError):
    """An unknown preset or a variable it does not declare."""


def _files() -> dict[str, dict]:
    out = {}
    for f in resources.files("rules").joinpath("presets").iterdir():
        if f.name.endswith(".json"):
            out[f.name[:-5]] = json.loads(f.read_text(encoding="utf-8"))
    return out


def catalogue() -> list[dict]:
    return [{"name": k, "title": v.get("title"), "variables": v.get("variables") or {}}
            for k, v in sorted(_files().items())]


def _subst(node, values: dict):
    if isinstance(node, dict):
        return {k: _subst(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_subst(v, values) for v in node]
    if isinstance(node, str):
        whole = _VAR.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return _VAR.sub(lambda m: str(values[m.group(1)]), node)
    return node


def build(name: str, variables: dict | None = None) -> model.Document:
    presets = _files()
    if name not in presets:
        raise PresetError(said(f"no preset {name!r} (one of {', '.join(sorted(presets))})",
                               f"нет набора правил {name!r} (есть: {', '.join(sorted(presets))})"), path="preset")
    p = presets[name]
    declared = p.get("variables") or {}
    unknown = sorted(set(variables or {}) - set(declared))
    if unknown:
        raise PresetError(said(f"the preset has no variable {unknown[0]!r}",
                               f"в наборе нет переменной {unknown[0]!r}"), path=f"variables.{unknown[0]}")
    values = {k: v.get("default") for k, v in declared.items()}
    for k, v in (variables or {}).items():
        want = type(declared[k].get("default"))
        if want is int and not (isinstance(v, int) and not isinstance(v, bool)):
            if not str(v).isdigit():
                raise PresetError(said(f"{v!r} is not a number", f"{v!r} — не число"), path=f"variables.{k}")
            v = int(v)
        values[k] = v if want is int else str(v)
    return model.validate(_subst(p["document"], values))
