"""The durable event inbox: accept (dedup) → worker (claim / done / fail with backoff) → offline pull.

Why: the portal's online events are fire-and-forget with no retries (reference §2.2), so a handler only
writes the event here and answers 200 at once; the worker does the work later and may retry. Offline
events (§2.4) are the at-least-once path for the time the app was down: ``pull_offline`` reserves them
with ``clear=0``, puts them into the same inbox, and only then clears them on the portal.

Which handlers run is the ``Registry``'s business (b24app/registry.py): a domain declares
``registry.on_event("ONCRMDEALUPDATE", fn)`` (several per event), robots and its own inbox jobs; a handler
is ``fn(services, member_id, payload)`` and must be idempotent enough for a retry after a crash mid-way.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager

from .errors import B24Error, NeedsReinstall, PortalNotInstalled
from .logsafe import error_text
from .registry import CORE, disabled_domains

log = logging.getLogger("b24app.inbox")

SECRET_AUTH_KEYS = ("access_token", "refresh_token")
OFFLINE_PROCESS_KEY = "inbox.offline_process_id"


# --- accept ---------------------------------------------------------------------------------------
def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(*parts) -> str:
    return hashlib.sha256("\x1f".join(_canonical(p) for p in parts).encode()).hexdigest()


def without_tokens(form: dict) -> dict:
    """The user's access/refresh tokens are not kept at rest: work is done through ``services.client``."""
    out = dict(form)
    if isinstance(out.get("auth"), dict):
        out["auth"] = {k: v for k, v in out["auth"].items() if k not in SECRET_AUTH_KEYS}
    return out


def event_dedup_key(member_id: str, form: dict) -> str:
    """Same portal + event + data + ts (+ handler id) = the same delivery, e.g. a replayed POST.

    Not unique for genuine events: the portal sends only ``{FIELDS: {ID}}`` and ``ts`` in whole seconds,
    so two real updates of one deal within a second share this key. Hence ``accept_event`` puts it with
    ``while_pending``: a copy arriving while the first is still pending is dropped (the handler reads the
    deal when it runs, so it sees both changes), one arriving after a worker took the first is new work.
    Online events are never re-sent by the portal (§2.2); offline rows carry their own ID."""
    return _digest("event", member_id, str(form.get("event") or "").upper(), form.get("data"),
                   str(form.get("ts") or ""), str(form.get("event_handler_id") or ""))


def accept_event(store, member_id: str, form: dict) -> bool:
    """Write a verified event into the inbox; False = already there (a duplicate), nothing written."""
    name = str(form.get("event") or "").upper()
    return store.inbox.put(member_id, "event", name, without_tokens(form), event_dedup_key(member_id, form),
                           while_pending=True)


def accept_robot(store, member_id: str, code: str, form: dict) -> bool:
    """A robot call (reference §4.3); ``event_token`` is unique per execution, so it is the dedup key and
    is kept in the payload for ``bizproc.event.send``."""
    token = str(form.get("event_token") or "")
    key = _digest("robot", member_id, code, token) if token else _digest(
        "robot", member_id, code, form.get("workflow_id"), form.get("document_id"), form.get("ts"))
    return store.inbox.put(member_id, "robot", code, without_tokens(form), key)


# --- worker ---------------------------------------------------------------------------------------
class Worker:
    """Claims inbox items and runs their handlers. Several workers (threads or processes) may run: the
    store's claim gives each item to one of them, and a crashed worker's lease runs out."""

    def __init__(self, services, registry=None, owner: str | None = None,
                 batch: int = 20, lease_seconds: float = 60.0, max_attempts: int = 8,
                 backoff: float = 2.0, max_backoff: float = 600.0):
        """``registry`` defaults to the services' own; another one (a test's) is what this worker's
        handlers see as ``services.registry`` too."""
        if registry is not None and registry is not services.registry:
            services = services.using(registry)
        self.services = services
        self.registry = services.registry
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch, self.lease_seconds, self.max_attempts = batch, lease_seconds, max_attempts
        self.backoff, self.max_backoff = backoff, max_backoff
        self.stop_event = threading.Event()

    def retry_in(self, attempts: int) -> float | None:
        """Exponential backoff; None after ``max_attempts`` (the item stays as ``failed`` for a look)."""
        if attempts >= self.max_attempts:
            return None
        return min(self.backoff * (2 ** max(attempts - 1, 0)), self.max_backoff)

    def run_once(self) -> int:
        """Claim one batch and process it; returns how many items were handled (done or failed).

        The batch runs one item after another, so each item's lease is renewed before its handler starts
        (an item whose lease ran out meanwhile may already belong to another worker: it is skipped) and
        kept alive while the handler runs; ``done``/``fail`` only write while the item is still ours."""
        inbox = self.services.store.inbox
        clock = getattr(inbox, "clock", time.time)
        claimed_at = clock()
        per_portal = int(getattr(self.services.settings, "inbox_per_portal", 10) or 10)
        items = inbox.claim(self.owner, limit=self.batch, lease_seconds=self.lease_seconds, per_portal=per_portal)
        handled = 0
        for item in items:
            if clock() - claimed_at > self.lease_seconds / 3 and not inbox.renew(
                    item.id, owner=self.owner, lease_seconds=self.lease_seconds):
                log.info("inbox %s: lease ran out while queued in this batch; another worker has it", item.id)
                continue
            self._process(inbox, item)
            handled += 1
        return handled

    def _handlers(self, item) -> list:
        """The item's handlers, without those of a domain this portal switched off."""
        found = self.registry.handlers(item.kind, item.name)
        if any(d.domain != CORE for d in found):
            off = disabled_domains(self.services.store, item.member_id)
            found = [d for d in found if d.domain not in off]
        return found

    def _run(self, handlers, item) -> None:
        """Every handler runs, even after another failed; the first failure is raised afterwards so the
        item is retried (each handler is idempotent, so re-running the others does no harm)."""
        error = None
        for d in handlers:
            try:
                d.fn(self.services, item.member_id, item.payload)
            except Exception as exc:  # noqa: BLE001 - re-raised below after the others ran
                error = error or exc
        if error is not None:
            raise error

    def _process(self, inbox, item) -> None:
        handlers = self._handlers(item)
        if not handlers:
            log.debug("inbox %s: no handler for %s %s", item.id, item.kind, item.name)
            self._finish(inbox.done(item.id, owner=self.owner), item)
            return
        try:
            with self._lease_kept(inbox, item):
                self._run(handlers, item)
        except PortalNotInstalled as exc:
            log.warning("inbox %s: %s — dropped", item.id, exc)
            self._finish(inbox.fail(item.id, error_text(exc), None, owner=self.owner), item)
        except Exception as exc:  # noqa: BLE001 - any handler failure is retried later, never lost
            wait = self.retry_in(item.attempts)
            if isinstance(exc, NeedsReinstall) and wait is not None:
                wait = self.max_backoff
            log.warning("inbox %s (%s %s, attempt %d): %s: %s — %s", item.id, item.kind, item.name,
                        item.attempts, type(exc).__name__, exc,
                        "gave up" if wait is None else f"retry in {wait:.0f}s")
            ours = inbox.fail(item.id, error_text(exc), wait, owner=self.owner)
            self._finish(ours, item)
            if wait is None and ours:
                self._gave_up(item, error_text(exc))
        else:
            self._finish(inbox.done(item.id, owner=self.owner), item)

    @contextmanager
    def _lease_kept(self, inbox, item):
        """Renew the item's lease every third of it while the handler runs, so a handler slower than
        the lease is not claimed — and run — a second time by another worker."""
        stop = threading.Event()

        def beat():
            while not stop.wait(self.lease_seconds / 3):
                if not inbox.renew(item.id, owner=self.owner, lease_seconds=self.lease_seconds):
                    log.warning("inbox %s: lease lost while its handler runs", item.id)
                    return

        t = threading.Thread(target=beat, name=f"inbox-lease-{item.id}", daemon=True)
        t.start()
        try:
            yield
        finally:
            stop.set()
            t.join()

    @staticmethod
    def _finish(ours: bool, item) -> None:
        if not ours:
            log.warning("inbox %s: finished after its lease was taken by another worker; result not written",
                        item.id)

    def _gave_up(self, item, error: str) -> None:
        declared = self.registry.give_up.get(item.kind)
        if declared is None:
            return
        try:
            declared.fn(self.services, item.member_id, item.payload, error)
        except Exception:  # the item is already recorded as failed; only log
            log.exception("inbox %s: give-up handler for %s failed", item.id, item.kind)

    def run_forever(self, poll: float | None = None, offline_every: float | None = None) -> None:
        """Loop until ``stop()``; with ``offline_every`` also sweep every installed portal's offline queue."""
        poll = poll if poll is not None else getattr(self.services.settings, "worker_poll_seconds", 0.5)
        last_pull = 0.0
        while not self.stop_event.is_set():
            if offline_every and time.monotonic() - last_pull >= offline_every:
                last_pull = time.monotonic()
                pull_all_offline(self.services)
            try:
                n = self.run_once()
            except Exception:  # the database may blink; the loop must survive it
                log.exception("inbox worker: claim failed")
                n = 0
            if n == 0:
                self.stop_event.wait(poll)

    def stop(self) -> None:
        self.stop_event.set()


# --- offline events -------------------------------------------------------------------------------
def offline_dedup_key(member_id: str, row: dict) -> str:
    """A queue row re-read after a crash has the same ID and MESSAGE_ID. MESSAGE_ID alone is not enough:
    the portal derives it from the object, so a later change of the same deal reuses it."""
    return _digest("offline", member_id, str(row.get("ID") or ""), str(row.get("MESSAGE_ID") or ""))


OFFLINE_MODE_KEY = "inbox.offline_mode"          # "confirm" (clear=0 + event.offline.clear) | "clear"
CONFIRM, CLEAR = "confirm", "clear"


def detect_offline_mode(services, member_id: str) -> str:
    """``feature.get rest_offline_extended`` (reference §2.4): without it the portal refuses ``clear=0``, so
    that portal is pulled with ``clear=1`` (delete on read). Recorded in KV; a portal that cannot answer
    keeps confirm mode, and ``pull_offline`` still falls back if the portal refuses it."""
    try:
        res = services.client(member_id).call("feature.get", {"CODE": "rest_offline_extended"}) or {}
        mode = CONFIRM if str(res.get("value", "")).upper() == "Y" else CLEAR
    except B24Error as exc:
        log.info("portal %s: feature.get rest_offline_extended failed (%s): confirm mode", member_id, exc.code)
        mode = CONFIRM
    services.store.kv.set(member_id, OFFLINE_MODE_KEY, mode)
    return mode


def _offline_payload(row: dict, process_id) -> dict:
    name = str(row.get("EVENT_NAME") or "").upper()
    return {"event": name, "data": row.get("EVENT_DATA"), "ts": row.get("TIMESTAMP_X"),
            "offline": {"ID": row.get("ID"), "MESSAGE_ID": row.get("MESSAGE_ID"),
                        "PROCESS_ID": process_id, "ADDITIONAL": row.get("EVENT_ADDITIONAL")}}


def _put_rows(services, member_id: str, rows: list, process_id) -> None:
    for row in rows:
        payload = _offline_payload(row, process_id)
        services.store.inbox.put(member_id, "event", payload["event"], payload, offline_dedup_key(member_id, row))


def _refused_confirm_mode(exc) -> bool:
    text = f"{exc.code} {exc.description}".lower()
    return "extended offline" in text or "license" in text


def pull_offline(services, member_id: str, limit: int = 50) -> int:
    """Take the portal's offline queue into the inbox; returns rows taken.

    Confirm mode: ``event.offline.get(clear=0)`` → inbox → ``event.offline.clear(process_id)``. The
    process_id is remembered in KV before anything is written, so rows reserved by a pull that crashed
    are fetched again by that id (the portal hides reserved rows from a plain get).
    Clear mode (no ``rest_offline_extended``): ``clear=1`` deletes on read, so the rows are written to the
    inbox before anything else happens — only a crash between the answer and the insert can lose them.
    """
    client = services.client(member_id)
    kv = services.store.kv
    if kv.get(member_id, OFFLINE_MODE_KEY) == CLEAR:
        return _pull_clearing(services, client, member_id, limit)
    taken = 0
    while True:
        params = {"clear": 0, "limit": limit}
        pending = kv.get(member_id, OFFLINE_PROCESS_KEY)
        if pending:
            params["process_id"] = pending
        try:
            res = client.call("event.offline.get", params) or {}
        except B24Error as exc:
            if not _refused_confirm_mode(exc):
                raise
            log.warning("portal %s refuses confirm-mode offline events (%s): pulling with clear=1",
                        member_id, exc.description)
            kv.set(member_id, OFFLINE_MODE_KEY, CLEAR)
            return taken + _pull_clearing(services, client, member_id, limit)
        rows = res.get("events") or []
        process_id = res.get("process_id") or pending
        if not rows:
            if pending:
                kv.delete(member_id, OFFLINE_PROCESS_KEY)
            return taken
        if process_id and process_id != pending:
            kv.set(member_id, OFFLINE_PROCESS_KEY, process_id)
        _put_rows(services, member_id, rows, process_id)
        client.call("event.offline.clear", {"process_id": process_id})
        kv.delete(member_id, OFFLINE_PROCESS_KEY)
        taken += len(rows)
        if len(rows) < limit:
            return taken


def _pull_clearing(services, client, member_id: str, limit: int) -> int:
    taken = 0
    while True:
        res = client.call("event.offline.get", {"clear": 1, "limit": limit}) or {}
        rows = res.get("events") or []
        _put_rows(services, member_id, rows, None)
        taken += len(rows)
        if len(rows) < limit:
            return taken


def on_offline_event(services, member_id: str, payload: dict) -> None:
    """The portal's ping that its offline queue has rows (reference §2.4): sweep that portal now."""
    pull_offline(services, member_id)


def pull_all_offline(services) -> int:
    """One sweep over installed portals; one portal's failure does not stop the others."""
    total = 0
    for p in services.store.portals.list():
        if p.status != "installed":
            continue
        try:
            total += pull_offline(services, p.member_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("offline pull for %s failed: %s: %s", p.member_id, type(exc).__name__, exc)
    return total
