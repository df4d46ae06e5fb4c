"""The 1C OData sandbox as a real HTTP server per test, and a client pointed at it."""
from __future__ import annotations

import pytest

from sync_1c.odata import ODataClient
from b24sandbox.onec import start


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch):
    """The 1C sandbox listens on 127.0.0.1: the operator's allowance (B24APP_OUTBOUND_ALLOW), as for a LAN
    1C in production. Clients built without Settings (ODataClient, connection.check) read it from there."""
    monkeypatch.setenv("B24APP_OUTBOUND_ALLOW", "127.0.0.1/32")


@pytest.fixture
def onec():
    sb = start()
    yield sb
    sb.shutdown()


@pytest.fixture
def onec_ut114():
    sb = start(flavor="ut11_4")
    yield sb
    sb.shutdown()


@pytest.fixture
def client(onec):
    return ODataClient(onec.url, onec.username, onec.password, timeout=5, retries=2, backoff=0)
