"""The page templates and scripts keep the rules the CSP relies on (b24app/websafety.py: script-src 'self'
+ BX24.js, no 'unsafe-inline'): no inline executable <script> (only src= scripts and JSON data blocks), no
inline event handler or javascript: URL, every template extends base.html (which loads the page kit,
static/common/), and no page script writes markup with innerHTML / insertAdjacentHTML / document.write."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "b24app" / "templates"
STATIC = ROOT / "b24app" / "static"
PAGES = sorted(p for p in TEMPLATES.rglob("*.html") if p.name != "base.html")
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def _name(p: Path) -> str:
    return str(p.relative_to(TEMPLATES))


def test_there_are_pages():
    assert {"main.html", "install.html", "error.html", "desk/desk.html", "maps/orders_map.html",
            "reports/dashboards.html", "visits/app.html"} <= {_name(p) for p in PAGES}


@pytest.mark.parametrize("path", [*PAGES, TEMPLATES / "base.html"], ids=_name)
def test_no_inline_executable_script(path):
    text = JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))
    for attrs, body in SCRIPT.findall(text):
        data = re.search(r'\btype\s*=\s*"application/json"', attrs)
        src = re.search(r"\bsrc\s*=", attrs)
        assert data or (src and not body.strip()), f"{_name(path)}: inline script <script{attrs}>{body[:60]}"
        if data:
            assert not src, f"{_name(path)}: a JSON block with src="
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", text, re.I), f"{_name(path)}: inline event handler"
    assert "javascript:" not in text.lower(), f"{_name(path)}: javascript: URL"


@pytest.mark.parametrize("path", PAGES, ids=_name)
def test_every_page_extends_base(path):
    first = JINJA_COMMENT.sub("", path.read_text(encoding="utf-8")).lstrip()
    assert first.startswith('{% extends "base.html" %}'), _name(path)
    assert "<html" not in first and "<head" not in first, f"{_name(path)}: its own document around base.html"


def test_base_loads_the_kit_and_the_kit_exists():
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    for name in ("b24", "el", "i18n", "api", "say", "fit"):
        assert f"'{name}'" in base and (STATIC / "common" / f"{name}.js").is_file(), name


def test_page_scripts_write_no_markup():
    ours = [p for p in STATIC.rglob("*.js") if "vendor" not in p.parts]
    assert ours
    for p in ours:
        # comments may name what the code never does
        text = re.sub(r"/\*.*?\*/|(?<![:'\"])//[^\n]*", "", p.read_text(encoding="utf-8"), flags=re.S)
        for bad in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert bad not in text, f"{p.relative_to(STATIC)}: {bad}"
