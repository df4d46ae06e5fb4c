"""Injected trouble: the failures a real portal produces now and then, on demand, so clients can be
tested for what the docs promise (503 bursts that execute nothing, lost events, dropped connections)."""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    latency: float = 0.0               # seconds added to every REST request
    drop_events: float = 0.0           # probability an outgoing event POST is silently lost
    method_cost: dict[str, float] = field(default_factory=dict)   # extra operating seconds per method call
    _storm: int = 0
    _drop: int = 0
    _trigger: tuple | None = None      # (predicate on a RequestRecord, storm length): storm_after
    # per method: the portal rejects it (before executing) / executes it, then the connection drops
    _method_errors: dict = field(default_factory=dict)   # method -> [code, description, status, times|None]
    _drop_after: dict = field(default_factory=dict)      # method -> times
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def storm(self, n_requests: int) -> None:
        """The next n REST requests answer 503 QUERY_LIMIT_EXCEEDED without executing."""
        with self._lock:
            self._storm = int(n_requests)

    def storm_after(self, when, n_requests: int) -> None:
        """Arm a storm: once a request record matching ``when(record)`` is logged (batch sub-calls
        included), the next n REST requests answer 503 — e.g. a storm in the middle of batched writes."""
        with self._lock:
            self._trigger = (when, int(n_requests))

    def observe(self, record) -> None:
        """Called by the portal for every logged request record (see ``storm_after``)."""
        trigger = self._trigger
        if trigger is not None and trigger[0](record):
            with self._lock:
                if self._trigger is trigger:
                    self._trigger = None
                    self._storm = trigger[1]

    def drop_connection(self, n_requests: int = 1) -> None:
        """The next n REST requests execute, then the connection is closed without an answer."""
        with self._lock:
            self._drop = int(n_requests)

    def fail_method(self, method: str, code: str, description: str = "", status: int = 400,
                    times: int | None = None) -> None:
        """Calls of ``method`` (direct or inside a batch) answer this error without executing — the next
        ``times`` of them, or every one until ``reset`` when None (e.g. 403 ACCESS_DENIED on crm.deal.update)."""
        with self._lock:
            self._method_errors[method.lower()] = [code, description or code, int(status), times]

    def drop_after(self, method: str, times: int = 1) -> None:
        """The next ``times`` direct calls of ``method`` execute, then the connection closes unanswered."""
        with self._lock:
            self._drop_after[method.lower()] = int(times)

    def take_method_error(self, method: str):
        """(code, description, status) when this call of ``method`` must fail, else None."""
        with self._lock:
            spec = self._method_errors.get(method.lower())
            if spec is None:
                return None
            code, description, status, times = spec
            if times is not None:
                if times <= 1:
                    del self._method_errors[method.lower()]
                else:
                    spec[3] = times - 1
            return code, description, status

    def take_drop_after(self, method: str) -> bool:
        with self._lock:
            n = self._drop_after.get(method.lower(), 0)
            if n <= 0:
                return False
            self._drop_after[method.lower()] = n - 1
            return True

    def take_storm(self) -> bool:
        with self._lock:
            if self._storm > 0:
                self._storm -= 1
                return True
            return False

    def take_drop(self) -> bool:
        with self._lock:
            if self._drop > 0:
                self._drop -= 1
                return True
            return False

    def lose_event(self) -> bool:
        return self.drop_events > 0 and self._rng.random() < self.drop_events

    def reset(self) -> None:
        with self._lock:
            self.latency = 0.0
            self.drop_events = 0.0
            self.method_cost.clear()
            self._method_errors.clear()
            self._drop_after.clear()
            self._storm = self._drop = 0
            self._trigger = None

    def state(self) -> dict:
        return {"latency": self.latency, "drop_events": self.drop_events, "storm": self._storm,
                "drop_connection": self._drop, "method_cost": dict(self.method_cost),
                "method_errors": {m: {"error": c, "error_description": d, "status": st, "times": t}
                                  for m, (c, d, st, t) in self._method_errors.items()},
                "drop_after": dict(self._drop_after)}

    def apply(self, cfg: dict) -> None:
        """Set from the control API's JSON: {"latency": .05, "storm": 30, "drop_events": 1, ...}."""
        if cfg.get("reset"):
            self.reset()
        if "latency" in cfg:
            self.latency = float(cfg["latency"])
        if "drop_events" in cfg:
            self.drop_events = float(cfg["drop_events"])
        if "storm" in cfg:
            self.storm(int(cfg["storm"]))
        if "drop_connection" in cfg:
            self.drop_connection(int(cfg["drop_connection"]))
        for method, e in (cfg.get("method_errors") or {}).items():
            # {"crm.deal.update": {"error": "ACCESS_DENIED", "error_description": "...", "status": 403, "times": 1}}
            self.fail_method(method, e["error"], e.get("error_description", ""), int(e.get("status", 400)),
                             None if e.get("times") is None else int(e["times"]))
        for method, times in (cfg.get("drop_after") or {}).items():
            self.drop_after(method, int(times))
        if "method_cost" in cfg:
            self.method_cost.update({k.lower(): float(v) for k, v in cfg["method_cost"].items()})
