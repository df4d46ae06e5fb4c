"""Which domains make up this deployment, and the one Registry they fill — part of the composition root
(with app.py and cli.py): the only core modules allowed to reach domain packages, and they do it by name.

Adding a domain = one package with ``<package>/plugin.py: plugin(registry)`` + one line in ``DOMAINS``.
A deployment switches domains off with ``B24APP_DOMAINS`` (``Settings.domains``: a comma-separated list of
the enabled ones, empty = all; ``install`` is always on — app.json is what makes the app); a portal switches
them off with kv ``domains.disabled`` (b24app/registry.py) — the worker and the scheduler skip that domain's
work for that portal.
"""
from __future__ import annotations

import importlib

from . import core_plugin
from .registry import CORE, Registry

# name → package; order = order of declaration (e.g. which ONCRMDEALUPDATE handler runs first)
DOMAINS: dict[str, str] = {
    "install": "install",       # app.json: robot catalogue, install/uninstall hooks, upgrades
    "sync_1c": "sync_1c",
    "maps": "maps",
    "visits": "visits",
    "calcwork": "calcwork",
    "desk": "desk",
    "reports": "reports",
    "rules": "rules",           # deal rules: reminders, escalations, tasks, order numbers, stage guards
    "field": "field",           # the worker's phone: his day, on my way / started / photos / finished, offline
}


def enabled_names(settings=None) -> list[str]:
    """``Settings.domains`` ("maps,visits", empty = every one in DOMAINS); a name not in DOMAINS is taken
    as a dotted package path (a test's example domain, a plugin shipped separately)."""
    raw = str(getattr(settings, "domains", "") or "").strip()
    if not raw:
        return list(DOMAINS)
    return [n.strip() for n in raw.split(",") if n.strip()]


def plugin_of(name: str):
    """The ``plugin(registry)`` of a domain named in DOMAINS or by its dotted package path."""
    return importlib.import_module(f"{DOMAINS.get(name, name)}.plugin").plugin


def build(names: list[str] | None = None, settings=None) -> Registry:
    """The platform, the installer (app.json is not optional: it declares the robots) and each named
    domain (default: the settings' enabled ones)."""
    names = enabled_names(settings) if names is None else names
    registry = Registry().use(CORE, core_plugin.plugin)
    for name in names if "install" in names else ["install", *names]:
        registry.use(name, plugin_of(name))
    return registry


def blueprints(registry: Registry) -> list:
    """The enabled domains' HTTP edges (``handlers.<x>.bp``), imported here and only here."""
    return [importlib.import_module(m).bp for m in registry.blueprints]
