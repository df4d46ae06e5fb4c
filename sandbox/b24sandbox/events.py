"""The portal's event machinery (reference §2): bound handlers, the online delivery queue (one
background thread POSTing PHP-keyed forms, no retries, nothing before installFinish) and the
offline queue (deduplicated per object, reserved by ``process_id``)."""
from __future__ import annotations

import hashlib
import json
import queue
import threading
import time as _time
from dataclasses import dataclass, field
from datetime import datetime

import requests

from b24app import phpform

from . import calls


def portal_form(payload) -> list[tuple[str, str]]:
    """A payload as the portal posts it (events, robot calls, installs): PHP keys, every scalar a string
    (strval: None and False → ""). The codec is the product's one (b24app.phpform), the sandbox's only
    import from the product."""
    return phpform.encode(payload, strval=True)


@dataclass
class Binding:
    id: int
    client_id: str
    event: str
    handler: str
    auth_type: int = 0               # user whose token is sent; 0 = the user who made the change
    offline: bool = False
    connector: str = ""
    options: dict = field(default_factory=dict)
    user_id: int = 1                 # who bound it


@dataclass
class OfflineRow:
    ID: int
    client_id: str
    connector: str
    EVENT_NAME: str
    EVENT_DATA: dict
    EVENT_ADDITIONAL: dict
    MESSAGE_ID: str
    TIMESTAMP_X: float
    PROCESS_ID: str = ""
    ERROR: int = 0

    def as_json(self) -> dict:
        return {"ID": str(self.ID), "TIMESTAMP_X": datetime.fromtimestamp(self.TIMESTAMP_X, calls.TZ).isoformat(),
                "EVENT_NAME": self.EVENT_NAME, "EVENT_DATA": self.EVENT_DATA,
                "EVENT_ADDITIONAL": self.EVENT_ADDITIONAL or [], "MESSAGE_ID": self.MESSAGE_ID,
                "PROCESS_ID": self.PROCESS_ID, "ERROR": str(self.ERROR), "CONNECTOR_ID": self.connector}


@dataclass
class Delivery:
    """One outgoing event POST as the queue server made it (or dropped it)."""

    client_id: str
    event: str
    url: str
    form: list                       # [(key, value)] exactly as posted
    ts: float
    status: int | None = None
    error: str | None = None
    dropped: bool = False

    @property
    def data(self) -> dict:
        return dict(self.form)


class EventBus:
    def __init__(self, portal):
        self.portal = portal
        self.bindings: list[Binding] = []
        self.offline = []
        self._ids = 0
        self._row_ids = 0
        self._lock = threading.RLock()
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._last_offline_ping: dict[str, float] = {}
        self._thread = threading.Thread(target=self._worker, name="sandbox-events", daemon=True)
        self._thread.start()

    @property
    def offline(self) -> list[OfflineRow]:
        return self._offline

    @offline.setter
    def offline(self, rows: list[OfflineRow]) -> None:
        """Rows by (app, connector, MESSAGE_ID) beside the list, so a bulk change of 15,000 items dedups
        each event in O(1) instead of scanning the whole queue (the list stays the order of record)."""
        self._offline = list(rows)
        self._by_message: dict[tuple, list[OfflineRow]] = {}
        for r in self._offline:
            self._by_message.setdefault((r.client_id, r.connector, r.MESSAGE_ID), []).append(r)

    # --- bindings -----------------------------------------------------------------------------------
    def bind(self, client_id, event, handler, auth_type=0, offline=False, connector="", options=None,
             user_id=1) -> Binding:
        with self._lock:
            self._ids += 1
            b = Binding(self._ids, client_id, event.upper(), handler or "", int(auth_type or 0), offline,
                        connector or "", options or {}, user_id)
            self.bindings.append(b)
            return b

    def find(self, client_id, event, handler, auth_type, offline, connector) -> list[Binding]:
        return [b for b in self.bindings if b.client_id == client_id and b.event == event.upper()
                and b.offline == offline and (offline or b.handler == handler)
                and b.auth_type == int(auth_type or 0) and b.connector == (connector or "")]

    def unbind(self, bindings: list[Binding]) -> int:
        with self._lock:
            ids = {b.id for b in bindings}
            before = len(self.bindings)
            self.bindings = [b for b in self.bindings if b.id not in ids]
            return before - len(self.bindings)

    def remove_app(self, client_id: str) -> None:
        with self._lock:
            self.bindings = [b for b in self.bindings if b.client_id != client_id]
            self.offline = [r for r in self.offline if r.client_id != client_id]

    # --- auth block ---------------------------------------------------------------------------------
    def auth_block(self, client_id: str, user_id: int | None, refresh: bool = False) -> dict:
        p = self.portal
        inst = p.installs[client_id]
        block: dict = {}
        if user_id:
            pair = p.issue_tokens(client_id, user_id)
            block.update(access_token=pair.access.token, expires=int(pair.access.expires_at), expires_in=3600,
                         scope=",".join(inst.scope), user_id=int(user_id))
            if refresh:
                block["refresh_token"] = pair.refresh.token
        block.update(domain=p.domain, server_endpoint=p.cloud.server_endpoint, status=inst.status,
                     client_endpoint=p.client_endpoint, member_id=p.member_id,
                     application_token=inst.application_token)
        return block

    # --- emitting -----------------------------------------------------------------------------------
    def emit(self, event_name: str, data: dict, user_id: int | None = None) -> None:
        event = event_name.upper()
        params = calls.current_params()
        source_connector = str(params.get("auth_connector") or params.get("AUTH_CONNECTOR") or "")
        with self._lock:
            targets = [b for b in self.bindings if b.event == event]
        for b in targets:
            inst = self.portal.installs.get(b.client_id)
            if inst is None:
                continue
            if b.offline:
                if source_connector and source_connector == b.connector:
                    continue                      # loop suppression (reference §2.4)
                self._queue_offline(b, data)
            elif inst.installed:
                self.deliver(b, data, b.auth_type or user_id)

    def deliver(self, b: Binding, data, user_id: int | None, refresh: bool = False) -> None:
        payload = {"event": b.event, "event_handler_id": b.id, "data": data,
                   "ts": int(self.portal.clock.now()),
                   "auth": self.auth_block(b.client_id, user_id, refresh=refresh)}
        self.post(b.client_id, b.event, b.handler, payload)

    def post(self, client_id: str, event: str, url: str, payload: dict) -> None:
        self._queue.put(Delivery(client_id, event, url, portal_form(payload), self.portal.clock.now()))

    def send_raw(self, client_id: str, event: str, data: dict, user_id: int | None = 1,
                 handler: str | None = None) -> list:
        """Deliver an event to the app's handlers (or one URL) regardless of what changed (tests)."""
        event = event.upper()
        hs = [b for b in self.bindings if b.client_id == client_id and b.event == event and not b.offline]
        if handler:
            hs = [Binding(0, client_id, event, handler)]
        for b in hs:
            self.deliver(b, data, user_id)
        return hs

    # --- offline queue ------------------------------------------------------------------------------
    def _queue_offline(self, b: Binding, data: dict) -> None:
        message_id = hashlib.md5(json.dumps([b.event, data], sort_keys=True).encode()).hexdigest()
        now = self.portal.clock.now()
        with self._lock:
            key = (b.client_id, b.connector, message_id)
            for row in self._by_message.get(key, ()):
                if not row.PROCESS_ID:
                    row.TIMESTAMP_X = now          # 1000 updates of one deal → one row, last timestamp
                    return
            self._row_ids += 1
            row = OfflineRow(self._row_ids, b.client_id, b.connector, b.event, data, {}, message_id, now)
            self._offline.append(row)
            self._by_message.setdefault(key, []).append(row)
        self._ping_offline(b.client_id)

    def _ping_offline(self, client_id: str) -> None:
        """ONOFFLINEEVENT: tell the app the queue has rows, at most once per ``minTimeout`` seconds."""
        inst = self.portal.installs.get(client_id)
        if not inst or not inst.installed:
            return
        now = self.portal.clock.now()
        for b in [b for b in self.bindings if b.client_id == client_id and b.event == "ONOFFLINEEVENT"]:
            timeout = float((b.options or {}).get("minTimeout", 1) or 0)
            last = self._last_offline_ping.get(client_id)
            if last is not None and now - last < timeout:
                continue
            self._last_offline_ping[client_id] = now
            self.deliver(b, [], b.auth_type or inst.user_id, refresh=True)

    # --- delivery worker ----------------------------------------------------------------------------
    def _worker(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                d = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                if self.portal.settings.event_delay:
                    _time.sleep(self.portal.settings.event_delay)
                if self.portal.faults.lose_event():
                    d.dropped = True
                else:
                    try:
                        r = session.post(d.url, data=d.form, timeout=10, allow_redirects=False)
                        d.status = r.status_code
                    except requests.RequestException as exc:      # no retries: the queue drops it
                        d.error = type(exc).__name__
                with self._lock:
                    self.portal.deliveries.append(d)
            finally:
                self._queue.task_done()

    def flush(self, timeout: float = 5.0) -> bool:
        deadline = _time.monotonic() + timeout
        while _time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            _time.sleep(0.01)
        return False

    def stop(self) -> None:
        self._stop.set()
