"""`b24app sandbox` as integrators use it: a webhook with a chosen code, REST and the OAuth server where
oauth.bitrix.info has them, in a separate process."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sandbox_command_serves_webhook_and_oauth_server(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "b24app.cli", "sandbox", "--port", str(port), "--seed", "demo",
                             "--webhook-code", "it5code"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60            # a loaded machine starts a Python process slowly
        while True:
            try:
                requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.communicate(timeout=10)[0]
                assert time.monotonic() < deadline, "the sandbox command did not start serving in 60 s"
                time.sleep(0.1)
        hook = f"{base}/rest/1/it5code/"
        deals = requests.get(hook + "crm.deal.list", params={"start": -1}, timeout=10).json()["result"]
        assert len(deals) == 50 and deals[0]["TITLE"]
        assert requests.get(f"{base}/rest/1/wrong/crm.deal.list", timeout=10).json()["error"] == "INVALID_CREDENTIALS"
        assert requests.get(hook + "event.bind", params={"event": "ONCRMDEALADD", "handler": "https://a.example/h"},
                            timeout=10).status_code == 403
        r = requests.get(f"{base}/oauth-server/oauth/token/", timeout=10,
                         params={"grant_type": "refresh_token", "client_id": "x", "client_secret": "y",
                                 "refresh_token": "z"})
        assert r.status_code in (400, 401) and r.json()["error"] in ("invalid_client", "invalid_grant")
        assert requests.get(f"{base}/oauth-server/rest/app.info", params={"auth": "nope"},
                            timeout=10).status_code == 401
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert f"{base}/rest/1/it5code/" in out and f"{base}/oauth-server/" in out
