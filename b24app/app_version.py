"""The app version a portal has installed, as the OAuth server names it (``app.info`` install.version),
kept in kv ``install.app_version``: written at install and when a confirmed ONAPPUPDATE is acted on, so
an update to a version already acted on is not news (b24app/lifecycle.py)."""
from __future__ import annotations

VERSION_KEY = "install.app_version"


def newer(version: str, last) -> bool:
    if last in (None, ""):
        return True
    if str(version).isdigit() and str(last).isdigit():
        return int(version) > int(last)
    return str(version) != str(last)


def installed_version(info: dict) -> str | None:
    v = ((info or {}).get("install") or {}).get("version")
    return None if v in (None, "") else str(v)


def record_version(store, member_id: str, info: dict) -> None:
    """At install: the version the OAuth server says is installed, so an update to it is not news."""
    version = installed_version(info)
    if version is not None:
        store.kv.set(member_id, VERSION_KEY, version)
