"""App lifecycle on a portal (reference §1.1, §1.4): install (UI app: installer page POST, INSTALLED
only after installFinish; API-only app: ONAPPINSTALL to the installer URL, installed at once),
uninstall (handlers and placements removed, tokens revoked, ONAPPUNINSTALL with CLEAN, no tokens),
update (ONAPPUPDATE with tokens)."""
from __future__ import annotations

import secrets

import requests

from .frames import frame_data, with_query
from .events import portal_form


def install_app(portal, client_id: str, mode: str = "frame", lang: str = "ru") -> dict:
    """Create the install and POST to the app's install_url; returns what was posted and the answer."""
    from .portal import AppInstall

    app = portal.cloud.apps[client_id]
    inst = portal.installs.get(client_id)
    if inst is None:
        inst = AppInstall(client_id=client_id, application_token=secrets.token_hex(16), scope=list(app.scope),
                          version=app.version, lang=lang)
        portal.installs[client_id] = inst
    inst.lang = lang
    if mode == "frame":
        inst.installed = False
        query, form = frame_data(portal, client_id, user_id=inst.user_id, lang=lang)
        url = with_query(app.install_url, query)
        pairs = list(form.items())
    elif mode == "event":
        inst.installed = True
        binding = portal.events.bind(client_id, "ONAPPINSTALL", app.install_url, user_id=inst.user_id)
        payload = {"event": "ONAPPINSTALL", "event_handler_id": binding.id,
                   "data": {"VERSION": app.version, "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": lang},
                   "ts": int(portal.clock.now()),
                   "auth": portal.auth_block(client_id, inst.user_id, refresh=True)}
        url, query, pairs = app.install_url, {}, portal_form(payload)
    else:
        raise ValueError(f"mode must be 'frame' or 'event', not {mode!r}")
    result = {"url": url, "query": query, "form": dict(pairs), "status": None, "error": None, "text": ""}
    try:
        r = requests.post(url, data=pairs, timeout=30, allow_redirects=False)
        result.update(status=r.status_code, text=r.text[:20000])
    except requests.RequestException as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def finish_install(portal, client_id: str) -> None:
    """BX24.installFinish(): from now on events are delivered and placements shown."""
    portal.installs[client_id].installed = True


def uninstall_app(portal, client_id: str, clean: bool = True) -> None:
    inst = portal.installs.get(client_id)
    if inst is None:
        return
    bus = portal.events
    targets = [b for b in bus.bindings if b.client_id == client_id and b.event == "ONAPPUNINSTALL" and not b.offline]
    auth = portal.auth_block(client_id, None)          # no tokens: API access is already revoked
    bus.remove_app(client_id)
    _forget_app_rows(portal.db, client_id)
    portal.revoke_tokens(client_id)
    del portal.installs[client_id]
    for b in targets:
        payload = {"event": "ONAPPUNINSTALL", "event_handler_id": b.id,
                   "data": {"LANGUAGE_ID": inst.lang, "CLEAN": 1 if clean else 0},
                   "ts": int(portal.clock.now()), "auth": auth}
        bus.post(client_id, "ONAPPUNINSTALL", b.handler, payload)


def update_app(portal, client_id: str, version: str) -> None:
    inst = portal.installs[client_id]
    previous, inst.version = inst.version, str(version)
    portal.cloud.apps[client_id].version = str(version)
    for b in [b for b in portal.events.bindings if b.client_id == client_id and b.event == "ONAPPUPDATE"]:
        portal.events.deliver(b, {"VERSION": str(version), "PREVIOUS_VERSION": previous, "LANGUAGE_ID": inst.lang},
                              inst.user_id, refresh=True)


def _forget_app_rows(db, client_id: str) -> None:
    """Placements and robots of the app go with it (docs settings/app-uninstallation.md)."""
    fn = getattr(db, "remove_app", None)
    if callable(fn):
        fn(client_id)
        return
    with getattr(db, "lock", None) or _nolock():
        placements = getattr(db, "placements", None)
        if isinstance(placements, dict):
            placements.pop(client_id, None)
        robots = getattr(db, "robots", None)
        if isinstance(robots, dict):
            for key in [k for k in robots if isinstance(k, tuple) and k and k[0] == client_id]:
                del robots[key]


class _nolock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
