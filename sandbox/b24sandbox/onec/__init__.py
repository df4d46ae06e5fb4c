"""A 1C OData sandbox: a real local HTTP server speaking the standard OData (v3) dialect of 1C:Enterprise
8.3 for an УТ 11.5-shaped (or УТ 11.4-, БП 3.0-, УНФ-shaped: `flavor=`) infobase, so the client and the
sync are tested over HTTP — percent-encoding, Basic auth with a Cyrillic login, `odata.error` bodies, HTML
pages — not against patches.

    sb = start()                                   # 127.0.0.1, free port, user «Администратор»
    order = sb.infobase.add_order(1000, "2025-03-01T10:00:00")
    sb.infobase.add_payment([(order, 400)], "2025-03-02T12:00:00")
    ODataClient(sb.url, sb.username, sb.password).query("Document_ЗаказКлиента")
    sb.faults.down = True                          # 503 HTML from the web server
    sb.shutdown()
"""
from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .data import PAYMENT_KINDS, Infobase
from .server import Faults, ServerState, make_app, metadata_xml

__all__ = ["OneCSandbox", "start", "Infobase", "Faults", "PAYMENT_KINDS", "metadata_xml"]


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as a web server in front of 1C does (no connect per request)

    def log_request(self, *args, **kwargs):  # keep test output clean
        pass


class OneCSandbox:
    """The running server. `url` is the OData root (`…/<base>/odata/standard.odata/`); `infobase` holds
    the data and the test helpers; `faults` the switches; `log` every request as received (raw query)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, flavor: str = "ut11_5", base: str = "ut11",
                 username: str = "Администратор", password: str = "пароль 1С"):
        self.infobase = Infobase(flavor)
        self.username, self.password = username, password
        self.state = ServerState(self.infobase, base, {username: password})
        self._server = make_server(host, port, make_app(self.state), threaded=True, request_handler=_QuietHandler)
        self.host, self.port = host, self._server.server_port
        self.url = f"http://{host}:{self.port}/{base}/odata/standard.odata/"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"onec-sandbox-{self.port}", daemon=True)
        self._thread.start()

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
        self._server.shutdown()
        self._server.server_close()


def start(host: str = "127.0.0.1", port: int = 0, **kw) -> OneCSandbox:
    return OneCSandbox(host, port, **kw)
