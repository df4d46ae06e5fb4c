"""``GET /metrics``: the deployment's figures (b24app/metrics.py) in Prometheus' text format, for the
operator's scraper — never for a portal user. With ``B24APP_METRICS_TOKEN`` set it asks for
``Authorization: Bearer <token>``; without one it answers only requests from this machine (loopback)."""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from b24app import metrics

from .common import json_error

bp = Blueprint("metrics", __name__)


def _allowed() -> bool:
    token = str(getattr(current_app.extensions["b24"].settings, "metrics_token", "") or "")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    return request.remote_addr in ("127.0.0.1", "::1")


@bp.get("/metrics")
def prometheus():
    if not _allowed():
        return json_error(403, "FORBIDDEN", "metrics are for the operator: send the B24APP_METRICS_TOKEN "
                                            "as a Bearer token, or ask from this machine")
    services = current_app.extensions["b24"]
    body = metrics.render(metrics.collect(services.store, registry=services.registry))
    return Response(body, mimetype="text/plain; version=0.0.4")
