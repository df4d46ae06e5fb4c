"""Which parts of the app this portal uses: an administrator switches a domain off (its robots answer that
it is off, its event handlers and periodic jobs stop for this portal) and on again. The deployment's own
list (``B24APP_DOMAINS``) bounds what can be switched; the installer never can.

JSON:   GET /api/domains                  {domains: [{name, title, description, enabled}]}   (administrators)
        PUT /api/domains {disabled: [..]} {disabled: [..]}                                  (administrators)
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from b24app import registry as app_registry
from b24app.admin_strings import domain_words
from b24app.i18n import lang_of

from .common import json_api, services

bp = Blueprint("domains", __name__)

_settings = json_api(need="settings")
ALWAYS_ON = ("install",)


def _switchable() -> list[str]:
    return [d for d in services().registry.domains if d not in ALWAYS_ON]


@bp.get("/api/domains")
@_settings
def get_domains(sess):
    off = app_registry.disabled_domains(services().store, sess.member_id)
    lang = lang_of(sess.lang)
    return jsonify({"domains": [{"name": d, **domain_words(lang, d), "enabled": d not in off}
                                for d in _switchable()]})


@bp.put("/api/domains")
@_settings
def put_domains(sess):
    body = request.get_json(silent=True)
    names = body.get("disabled") if isinstance(body, dict) else None
    saved = app_registry.set_disabled(services().store, sess.member_id, names, _switchable(), lang_of(sess.lang))
    return jsonify({"disabled": saved})
