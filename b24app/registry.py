"""The domain contract: one ``Registry`` per process, filled by each enabled domain's ``plugin(registry)``.

Why: domains plug in by declaring, not by importing. The web process, the worker and the scheduler build
the same registry from the same list of enabled domains (b24app/domains.py), so what the web process
queues the worker understands, and a test builds its own registry instead of patching globals. Every
declaration remembers the domain that made it, so a portal can switch a domain off (kv
``domains.disabled``, a list of names) and the worker and the scheduler skip that domain's work for it.

The core (b24app/*) never imports a domain; a domain never imports handlers/ — its blueprint is named
by a dotted module string that only the composition root (b24app/app.py) imports.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import SettingsError

CORE = "core"                      # the platform's own declarations: never switched off
DISABLED_KEY = "domains.disabled"  # kv, per portal: ["maps", ...]

Handler = Callable[[object, str, dict], None]            # fn(services, member_id, payload)
GaveUp = Callable[[object, str, dict, str], None]        # fn(services, member_id, payload, error)
JobFn = Callable[[object, str], None]                    # fn(services, member_id)


@dataclass(frozen=True)
class Declared:
    domain: str
    fn: Callable


@dataclass(frozen=True)
class JobType:
    """A periodic job: ``fn(services, member_id)`` every ``seconds`` for each installed portal; the
    portal's kv ``setting_key`` (seconds) overrides the interval."""
    name: str
    fn: JobFn
    seconds: float
    setting_key: str | None = None
    domain: str = CORE


@dataclass
class Registry:
    events: dict[str, list[Declared]] = field(default_factory=dict)       # "ONCRMDEALUPDATE" → handlers
    jobs: dict[str, list[Declared]] = field(default_factory=dict)         # inbox "kind:name" → handlers
    give_up: dict[str, Declared] = field(default_factory=dict)            # inbox kind → its last word
    robots: dict[str, Declared] = field(default_factory=dict)             # robot code → fn(call)
    periodic: dict[str, JobType] = field(default_factory=dict)
    install_hooks: list[Declared] = field(default_factory=list)           # fn(services, member_id[, progress])
    uninstall_hooks: list[Declared] = field(default_factory=list)         # fn(store, member_id, clean)
    settings: dict[str, Declared] = field(default_factory=dict)           # kv key → the domain's validator/schema
    blueprints: list[str] = field(default_factory=list)                   # "handlers.maps"
    resealers: dict[str, Declared] = field(default_factory=dict)          # rotate-keys: fn(store, progress)
    metrics: dict[str, tuple[str, Declared]] = field(default_factory=dict)  # /metrics: name → (help, fn(store, now))
    robot_specs: Callable[[str], dict] | None = None                      # code → app.json entry (KeyError)
    own_robot_specs: dict[str, dict] = field(default_factory=dict)        # robots a domain declares itself
    final_robot_errors: tuple[type, ...] = ()                             # answered at once, never retried
    domains: list[str] = field(default_factory=list)
    _domain: str = CORE

    # --- building ------------------------------------------------------------------------------------
    def use(self, name: str, plugin: Callable[["Registry"], None]) -> "Registry":
        """Run one domain's ``plugin(registry)``; what it declares is that domain's."""
        with self._declaring(name):
            plugin(self)
        if name != CORE and name not in self.domains:
            self.domains.append(name)
        return self

    @contextmanager
    def _declaring(self, name: str):
        before, self._domain = self._domain, name
        try:
            yield
        finally:
            self._domain = before

    def _d(self, fn) -> Declared:
        return Declared(self._domain, fn)

    # --- what a plugin declares ------------------------------------------------------------------------
    def on_event(self, name: str, fn: Handler) -> Handler:
        """One more handler for a portal event (upper-case, as the portal sends it); several domains may
        listen to the same event — each runs, and one's failure retries the item after the others ran."""
        self.events.setdefault(name.upper(), []).append(self._d(fn))
        return fn

    def inbox_job(self, kind: str, name: str, fn: Handler) -> Handler:
        """A handler for inbox items ``kind``/``name`` the domain queues itself (e.g. "sync_1c"/"push")."""
        self.jobs.setdefault(f"{kind}:{name}", []).append(self._d(fn))
        return fn

    def on_give_up(self, kind: str, fn: GaveUp) -> GaveUp:
        """Called once when the inbox gives an item of ``kind`` up for good (one per kind)."""
        self.give_up[kind] = self._d(fn)
        return fn

    def metric(self, name: str, help_text: str, fn: Callable) -> Callable:
        """A gauge of the domain's for GET /metrics: ``fn(store, now) -> [(labels dict, value)]``, aggregates
        over every portal (never one portal's id)."""
        self.metrics[name] = (help_text, self._d(fn))
        return fn

    def robot(self, code: str, fn: Callable, spec: dict | None = None) -> Callable:
        """``fn(call) -> (RETURN_VALUES, log text)`` for the robot ``code`` (b24app/robot_runtime.py parses
        the call, answers it and remembers the answer). Its properties and name come from app.json, or
        from ``spec`` (the same shape) for a robot the domain adds to the portal itself."""
        if code in self.robots:
            raise ValueError(f"robot {code!r} is declared twice ({self.robots[code].domain}, {self._domain})")
        self.robots[code] = self._d(fn)
        if spec is not None:
            self.own_robot_specs[code] = spec
        return fn

    def every(self, name: str, seconds: float, fn: JobFn, setting_key: str | None = None) -> JobFn:
        """A periodic job per installed portal (run by ``b24app scheduler``)."""
        self.periodic[name] = JobType(name, fn, seconds, setting_key, self._domain)
        return fn

    def on_install(self, fn) -> Callable:
        """Run by the install job ("app:INSTALL") after the portal is stored; may take ``progress``."""
        self.install_hooks.append(self._d(fn))
        return fn

    def on_uninstall(self, fn) -> Callable:
        """``fn(store, member_id, clean)`` on a proven ONAPPUNINSTALL, before the portal is forgotten."""
        self.uninstall_hooks.append(self._d(fn))
        return fn

    def settings_schema(self, key: str, validator) -> None:
        """The domain's settings document (kv ``key``) and what validates it."""
        self.settings[key] = self._d(validator)

    def blueprint(self, module: str) -> None:
        """The domain's HTTP edge, by dotted name (a module in handlers/ with a ``bp``)."""
        if module not in self.blueprints:
            self.blueprints.append(module)

    def resealer(self, name: str, fn) -> None:
        """A secret this domain stores, re-sealed by ``b24app rotate-keys``: ``fn(store, progress) -> n``."""
        self.resealers[name] = self._d(fn)

    def robot_catalogue(self, lookup: Callable[[str], dict], *final_errors: type) -> None:
        """Where robot declarations (properties, names) come from — app.json, declared by the installer —
        and the lookup errors that mean "not installed": answered at once, a retry reads the same."""
        self.robot_specs = lookup
        self.final_robot_errors += tuple(final_errors)

    # --- what the worker and the scheduler read --------------------------------------------------------
    def handlers(self, kind: str, name: str) -> list[Declared]:
        if kind == "event":
            return list(self.events.get(name.upper(), ()))
        return list(self.jobs.get(f"{kind}:{name}") or self.jobs.get(f"{kind}:*", ()))

    def domain_of_robot(self, code: str) -> str | None:
        d = self.robots.get(code)
        return d.domain if d else None


def disabled_domains(store, member_id: str) -> set[str]:
    """The domains this portal switched off (kv ``domains.disabled``); the core never is."""
    value: Any = store.kv.get(member_id, DISABLED_KEY) or []
    return {str(v) for v in value if str(v) != CORE} if isinstance(value, (list, tuple)) else set()


def set_disabled(store, member_id: str, names, switchable: list[str], lang: str = "en") -> list[str]:
    """Store which domains this portal switches off (the administrator's page); only ``switchable`` ones
    (the deployment's domains but the installer) — anything else is refused and nothing is written."""
    ru = lang == "ru"
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SettingsError("ожидается список разделов" if ru else "a list of domain names is expected",
                            path="disabled")
    unknown = sorted({n for n in names if n not in switchable})
    if unknown:
        raise SettingsError((f"нельзя отключить: {', '.join(unknown)}; можно: {', '.join(switchable)}" if ru else
                             f"cannot be switched off here: {', '.join(unknown)}; "
                             f"choose from {', '.join(switchable)}"), path="disabled")
    value = [n for n in switchable if n in set(names)]
    store.kv.set(member_id, DISABLED_KEY, value)
    return value


def enabled(store, member_id: str, domain: str) -> bool:
    return domain == CORE or domain not in disabled_domains(store, member_id)
