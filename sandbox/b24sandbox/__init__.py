"""Local Bitrix24 portal emulator: REST, OAuth server, event delivery, portal page, faults, demo data.

``SandboxCloud`` (cloud.py) holds the OAuth server and app registrations; ``cloud.add_portal()``
starts a ``SandboxPortal`` (portal.py) — a real threaded HTTP server. ``b24sandbox.onec`` is the 1C OData
emulator beside it; the names below load lazily, so importing that one does not start up this one.
"""
from __future__ import annotations

__all__ = ["SandboxCloud", "SandboxPortal", "AppRegistration"]


def __getattr__(name: str):
    if name in ("SandboxCloud", "AppRegistration"):
        from . import cloud

        return getattr(cloud, name)
    if name == "SandboxPortal":
        from .portal import SandboxPortal

        return SandboxPortal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
