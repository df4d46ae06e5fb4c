"""The portal's HTTP surface: one werkzeug WSGI app per portal routing to the REST endpoint, the OAuth
server, the portal pages and BX24.js, and the ``/_sandbox/`` control API."""
from __future__ import annotations

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from . import control, oauth_server, page, rest
from .methods import documentgenerator

_ROUTES = Map([
    Rule("/rest/<path:path>", endpoint=rest.handle),
    Rule("/oauth-server/oauth/token/", endpoint=oauth_server.token),
    Rule("/oauth-server/oauth/token", endpoint=oauth_server.token),
    Rule("/oauth-server/rest/app.info", endpoint=oauth_server.app_info),
    Rule("/oauth-server/rest/app.info/", endpoint=oauth_server.app_info),
    Rule("/oauth-server/rest/app.info.json", endpoint=oauth_server.app_info),
    Rule("/oauth/authorize/", endpoint=oauth_server.authorize),
    *page.RULES,
    *control.RULES,
    *documentgenerator.RULES,
], strict_slashes=False)


def make_wsgi_app(portal):
    def app(environ, start_response):
        request = Request(environ)
        adapter = _ROUTES.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            response = endpoint(portal, request, **args)
        except HTTPException as e:
            response = e
        return response(environ, start_response)

    return app
