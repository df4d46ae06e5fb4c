"""Fixtures of the sandbox tests: a real HTTP receiver for what the portal POSTs, and an installed app."""
from __future__ import annotations

import pytest

from .methods_helpers import install
from .receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def tok(cloud, portal, receiver):
    """Access token of admin user 1 for an app installed with every scope (rate limit off)."""
    return install(cloud, portal, receiver.url)
