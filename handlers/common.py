"""What every edge shares: the Services of this app, the parsed PHP-style form, one JSON error shape.

Like bolt-python's flask adapter: convert the request, call one function, convert the answer."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request

from b24app.forms import parse_form
from b24app.i18n import lang_of, strings


def services():
    return current_app.extensions["b24"]


def form() -> dict:
    """``request.form`` with ``data[FIELDS][ID]`` keys nested (reference §2.2)."""
    return parse_form(request.form)


def query() -> dict:
    return request.args.to_dict()


def json_error(status: int, error: str, description: str):
    return jsonify({"error": error, "error_description": description}), status


def error_page(status: int, error: str, description: str, lang: str | None = None):
    """Frames show a human page (in the portal's language) with the same status code as the JSON answer."""
    s = strings(lang)
    title = s["error.bad_request"] if status == 400 else s["error.forbidden"] if status == 403 else \
        s["error.unauthorized"]
    return render_template("error.html", s=s, lang=lang_of(lang), title=title, error=error,
                           description=description, status=status), status
