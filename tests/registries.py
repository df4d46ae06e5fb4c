"""Registries for tests: a test hands a worker, a scheduler or create_app the registry it needs instead of
patching module globals (b24app/registry.py)."""
from __future__ import annotations

import dataclasses

from b24app import domains
from b24app.registry import Registry


def registry_of(handlers: dict, give_up: dict | None = None) -> Registry:
    """Exactly these inbox handlers, keyed as the inbox names items: an event name ("ONCRMDEALADD") or
    "kind:name" ("lifecycle:UNINSTALL_CHECK", "sync_1c:push")."""
    registry = Registry()
    for key, fn in handlers.items():
        kind, sep, name = key.partition(":")
        if sep:
            registry.inbox_job(kind, name, fn)
        else:
            registry.on_event(key, fn)
    for kind, fn in (give_up or {}).items():
        registry.on_give_up(kind, fn)
    return registry


def only(keys, registry: Registry | None = None) -> Registry:
    """The enabled domains (or ``registry``) with only these inbox handlers — event names or "kind:name" —
    and everything else (install hooks, robot catalogue, give-up answers) as declared."""
    full = registry if registry is not None else domains.build()
    return dataclasses.replace(full, events={k: v for k, v in full.events.items() if k in keys},
                               jobs={k: v for k, v in full.jobs.items() if k in keys})


def robots_only(names: list[str] | None = None) -> Registry:
    """The robots of the named (default: enabled) domains, answered by the runtime, and no other work."""
    return only(("robot:*",), domains.build(names))


def with_installer(*hooks, names: list[str] | None = None) -> Registry:
    """The enabled domains, but the install job ("app:INSTALL") runs ``hooks`` instead of app.json's
    installer — none: the install is complete at once and a test runs the installer itself."""
    registry = dataclasses.replace(domains.build(names), install_hooks=[])
    for fn in hooks:
        registry.use("test", lambda r, fn=fn: r.on_install(fn))
    return registry
