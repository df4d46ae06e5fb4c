"""A tiny HTTP receiver (a real werkzeug server) that records what the sandbox POSTs to an app:
install callbacks, frame forms, events."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _Quiet(WSGIRequestHandler):
    def log_request(self, *a, **k):
        pass


@dataclass
class Received:
    path: str
    query: dict
    form: dict
    pairs: list
    content_type: str


@dataclass
class Receiver:
    status: int = 200
    got: list[Received] = field(default_factory=list)

    def start(self):
        def app(environ, start_response):
            req = Request(environ)
            self.got.append(Received(req.path, req.args.to_dict(), req.form.to_dict(),
                                     list(req.form.items(multi=True)), req.mimetype))
            return Response("ok", status=self.status)(environ, start_response)

        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def wait(self, n: int = 1, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.got

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
