"""Wires the domain packages into the platform — install hooks, robots, event handlers, periodic jobs —
once per process: create_app(), the worker and the scheduler all call ``load()``, so a robot queued by
the web process is understood by the worker that runs it."""
from __future__ import annotations

_loaded = False


def load() -> None:
    global _loaded
    if _loaded:
        return
    from install.apply import install_or_raise
    from install.robots import register as register_robots
    from install.uninstall import on_uninstalled

    from . import inbox, install_flow

    if install_or_raise not in install_flow.POST_INSTALL_HOOKS:
        install_flow.POST_INSTALL_HOOKS.append(install_or_raise)
    if on_uninstalled not in install_flow.UNINSTALL_HOOKS:
        install_flow.UNINSTALL_HOOKS.append(on_uninstalled)
    register_robots(inbox.EVENT_HANDLERS, inbox.GIVE_UP_HANDLERS)   # + the robots' give-up answer
    from install import jobs as _install_jobs  # noqa: F401 - ONAPPUPDATE, periodic upgrade check, answer expiry
    from sync_1c.jobs import register as register_sync_1c     # periodic pull, 1C push, paid gate

    register_sync_1c(inbox.EVENT_HANDLERS)
    from sync_1c.connection import reseal_all as reseal_1c     # 1C password + push secret: rotate-keys

    from . import rotation

    rotation.RESEALERS.setdefault("sync_1c", reseal_1c)
    from maps.geocoding import register as register_maps     # background geocoding, map version bumps

    register_maps(inbox.EVENT_HANDLERS)
    from visits import calendar_sync as _visits_calendar  # noqa: F401 - periodic "visits.calendar"
    from visits import sweep as _visits_sweep  # noqa: F401 - registers the periodic "visits.sweep"
    from visits.events import register as register_visits   # calendar sync, human touches

    register_visits(inbox.EVENT_HANDLERS)
    _loaded = True


def blueprints() -> list:
    """HTTP edges of the domain packages (each one a module in handlers/ with a ``bp``); add yours here."""
    import importlib

    modules = [
        "handlers.visits",
        "handlers.payments",
        "handlers.maps",
        "handlers.reports",
        "handlers.desk",
    ]
    return [importlib.import_module(m).bp for m in modules]
