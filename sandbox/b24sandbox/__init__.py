"""Local Bitrix24 portal emulator: REST, OAuth server, event delivery, portal page, faults, demo data.

``SandboxCloud`` (cloud.py) holds the OAuth server and app registrations; ``cloud.add_portal()``
starts a ``SandboxPortal`` (portal.py) — a real threaded HTTP server.
"""
from .cloud import AppRegistration, SandboxCloud
from .portal import SandboxPortal

__all__ = ["SandboxCloud", "SandboxPortal", "AppRegistration"]
