"""The platform's own declarations, in every registry and never switched off: the offline-event ping,
the app.json install job, the uninstall re-check, the robot runtime for every robot call, the robot
answers' expiry, and the resealers of the tokens the platform stores."""
from __future__ import annotations

from . import inbox, install_flow, lifecycle, robot_runtime, rotation
from .registry import CORE, Registry


def plugin(registry) -> None:
    registry.on_event("ONOFFLINEEVENT", inbox.on_offline_event)
    registry.inbox_job(install_flow.JOB_KIND, install_flow.JOB_NAME, install_flow.run_install_job)
    registry.inbox_job(lifecycle.RECHECK_KIND, lifecycle.RECHECK_NAME, lifecycle.run_recheck)
    registry.on_give_up(lifecycle.RECHECK_KIND, lifecycle.recheck_gave_up)
    registry.inbox_job("robot", "*", robot_runtime.handle_robot)     # answers every call, known or not
    registry.on_give_up("robot", robot_runtime.robot_gave_up)
    registry.every("install.robot_answers", 86400, robot_runtime.expire_answers, "install.robot_answers_seconds")
    registry.resealer("portals", rotation.portals)
    registry.resealer("user_tokens", rotation.user_tokens)


def core_registry():
    """A registry with the platform alone (no domain): what Services falls back to."""
    return Registry().use(CORE, plugin)
