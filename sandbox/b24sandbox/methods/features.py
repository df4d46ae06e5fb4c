"""feature.get (docs rest_help/general/feature_get.php, reference §2.4, §6): whether this portal's plan has
a REST feature. Answers ``{"value": "Y"|"N"}``; the portal's ``settings.features`` decides, so a test can
stand in for a plan without ``rest_offline_extended`` (confirm-mode offline events) or
``rest_auth_connector``."""
from __future__ import annotations

from ..registry import B24Fault, CallContext, method

KNOWN = ("rest_offline_extended", "rest_auth_connector")


def enabled(portal, code: str) -> bool:
    return bool((getattr(portal.settings, "features", None) or {}).get(code, False))


@method("feature.get")
def feature_get(ctx: CallContext, params: dict):
    p = {str(k).upper(): v for k, v in params.items()}
    code = str(p.get("CODE") or "")
    if not code:
        raise B24Fault("ERROR_ARGUMENT", "Argument 'CODE' is null or empty", 400, argument="CODE")
    return {"value": "Y" if enabled(ctx.portal, code) else "N"}
