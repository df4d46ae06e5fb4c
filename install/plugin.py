"""The installer as a domain: app.json is where robots are declared (the runtime reads their properties
here), the install job runs ``install_or_raise``, an uninstall forgets the recorded ids, and upgrades
come from ONAPPUPDATE and a periodic version check."""
from __future__ import annotations

from .apply import install_or_raise
from .jobs import check_version, on_app_update
from .manifest import load
from .registry import NotInstalled
from .uninstall import on_uninstalled


def _robot_spec(code: str) -> dict:
    return load().robot(code)


def plugin(registry) -> None:
    registry.robot_catalogue(_robot_spec, NotInstalled)     # NotInstalled: answered at once, never retried
    registry.on_install(install_or_raise)
    registry.on_uninstall(on_uninstalled)
    registry.on_event("ONAPPUPDATE", on_app_update)
    registry.every("install.upgrade", 900, check_version, "install.upgrade_seconds")
