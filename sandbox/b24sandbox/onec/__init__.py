"""A 1C OData sandbox: a real local HTTP server speaking the standard OData (v3) dialect of 1C:Enterprise
8.3 for an УТ 11.5-shaped (or УТ 11.4-, БП 3.0-, УНФ-shaped: `flavor=`) infobase, so the client and the
sync are tested over HTTP — percent-encoding, Basic auth with a Cyrillic login, `odata.error` bodies, HTML
pages — not against patches.

    sb = start()                                   # 127.0.0.1, free port, user «Администратор»
    order = sb.infobase.add_order(1000, "2025-03-01T10:00:00")
    sb.infobase.add_payment([(order, 400)], "2025-03-02T12:00:00")
    ODataClient(sb.url, sb.username, sb.password).query("Document_ЗаказКлиента")
    sb.faults.down = True                          # the server is off: connection refused
    sb.faults.unavailable = True                   # web server up, 1C not: 503 HTML
    sb.restrict(ref)                               # row-level security: 401/20 without $allowedOnly=true
    sb.shutdown()

Like a real publication behind IIS (the common case): query strings over 2,048 bytes get IIS' 404.15 page
(`web_server="apache"`: 8,126), JSON answers start with a UTF-8 BOM (`faults.bom`), the default format
without `$format`/`Accept: application/json` is Atom.
"""
from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .data import PAYMENT_KINDS, Infobase
from .server import APACHE_MAX_QUERY, IIS_MAX_QUERY, Faults, ServerState, make_app, metadata_xml

__all__ = ["OneCSandbox", "start", "Infobase", "Faults", "PAYMENT_KINDS", "metadata_xml"]


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as a web server in front of 1C does (no connect per request)

    def log_request(self, *args, **kwargs):  # keep test output clean
        pass


class OneCSandbox:
    """The running server. `url` is the OData root (`…/<base>/odata/standard.odata/`); `infobase` holds
    the data and the test helpers; `faults` the switches; `log` every request as received (raw query)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, flavor: str = "ut11_5", base: str = "ut11",
                 username: str = "Администратор", password: str = "пароль 1С", web_server: str = "iis"):
        if web_server not in ("iis", "apache"):
            raise ValueError("web_server is 'iis' or 'apache'")
        self.infobase = Infobase(flavor)
        self.username, self.password = username, password
        self.state = ServerState(self.infobase, base, {username: password},
                                 max_query=IIS_MAX_QUERY if web_server == "iis" else APACHE_MAX_QUERY)
        self.state.faults._on_down = self._switch
        self.host, self.port = host, port
        self._server = None
        self._listen()
        self.url = f"http://{host}:{self.port}/{base}/odata/standard.odata/"

    def _listen(self) -> None:
        self._server = make_server(self.host, self.port, make_app(self.state), threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"onec-sandbox-{self.port}", daemon=True)
        self._thread.start()

    def _switch(self, down: bool) -> None:
        """`faults.down`: stop listening (new connections are refused; kept-alive ones are closed on their
        next request), or listen again on the same port."""
        if down:
            self._stop()
        else:
            self._listen()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def unpublish(self, entity_set: str) -> None:
        """Take an entity set out of the OData composition: gone from `$metadata`, requests get 404 / code 8."""
        with self.infobase.lock:
            self.infobase.schema.pop(entity_set, None)
            self.state.query_cache.clear()

    def restrict(self, *refs: str) -> None:
        """Row-level security: the OData user may not read these documents (or these orders' register
        records) — a query touching one fails with 401 / code 20 unless it asks `$allowedOnly=true`."""
        self.state.restricted.update(str(r).lower() for r in refs)

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def log(self):
        return self.state.log

    def add_user(self, username: str, password: str) -> None:
        self.state.users[username] = password

    def shutdown(self) -> None:
        """Stop listening: from now on the port refuses connections."""
        self._stop()


def start(host: str = "127.0.0.1", port: int = 0, **kw) -> OneCSandbox:
    return OneCSandbox(host, port, **kw)
