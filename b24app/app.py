"""``create_app()``: the Flask edge. Settings + store → Services in ``app.extensions["b24"]``, the handlers'
blueprints, and one JSON error shape ``{error, error_description}`` (the platform's own, reference §7.1)
for everything that is not a page.

Pages are shown inside the portal's iframe, so no X-Frame-Options is set: ``Content-Security-Policy:
frame-ancestors`` names the one portal that may frame a page instead (b24app/websafety.py, with the other
security headers and the access-log mask).

Composition root (with b24app/cli.py and b24app/domains.py): the one place that imports handlers/ and,
through the registry of enabled domains, the domain packages."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from handlers import access, events, install, placements, robots
from handlers import domains as domains_admin
from handlers import metrics as metrics_edge

from . import domains, logsafe, secretbox, websafety
from .config import Settings
from .services import Services
from .store import open_store

log = logging.getLogger("b24app")


def create_app(settings: Settings | None = None, store=None, registry=None) -> Flask:
    """``registry`` defaults to the settings' enabled domains (``domains.build``); a test passes its own."""
    logsafe.install()           # every log line of the web process (access log included) scrubbed
    if not secretbox.configured():  # tokens are sealed at rest: no key, no app (not a 500 at the first install)
        raise secretbox.SecretBoxError(f"{secretbox.ENV_KEYS} is not set: generate a key with `b24app keygen`")
    settings = settings or Settings.from_env()
    if store is None:
        store = open_store(settings.database_url)
    app = Flask("b24app", template_folder=str(Path(__file__).parent / "templates"))
    # Events and frames are small forms; 4 MB bounds what an anonymous POST can make us parse.
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=4 * 1024 * 1024)
    app.json.ensure_ascii = False
    registry = registry if registry is not None else domains.build(settings=settings)
    app.extensions["b24"] = Services(settings, store, registry=registry)
    websafety.install(app)
    for module in (install, events, robots, placements, access, domains_admin, metrics_edge):
        app.register_blueprint(module.bp)
    for bp in domains.blueprints(registry):
        app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify({"error": exc.name.upper().replace(" ", "_"), "error_description": exc.description}), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify({"error": "INTERNAL_ERROR", "error_description": type(exc).__name__}), 500

    return app


def services_of(app: Flask) -> Services:
    return app.extensions["b24"]
