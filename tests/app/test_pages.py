"""The installer page finishes the install through BX24.js in a real browser; forms and CLI basics."""
from __future__ import annotations

import os
import threading

import pytest

from tests.browser import in_thread
from click.testing import CliRunner

from b24app.forms import parse_pairs


def test_php_form_keys():
    pairs = [("event", "ONCRMDEALADD"), ("data[FIELDS][ID]", "7"), ("auth[member_id]", "m"),
             ("document_id[0]", "crm"), ("document_id[1]", "CCrmDocumentDeal"), ("properties[ids][]", "1"),
             ("properties[ids][]", "2"), ("odd]key", "x")]
    assert parse_pairs(pairs) == {"event": "ONCRMDEALADD", "data": {"FIELDS": {"ID": "7"}}, "auth": {"member_id": "m"},
                                  "document_id": ["crm", "CCrmDocumentDeal"], "properties": {"ids": ["1", "2"]},
                                  "odd]key": "x"}


def test_i18n_falls_back():
    from b24app.i18n import lang_of, t

    assert lang_of("ru") == "ru" and lang_of("ua") == "ru" and lang_of("de") == "en" and lang_of(None) == "ru"
    assert t("en", "portal") == "Portal" and t("ru", "portal") == "Портал"


def test_cli_lists_commands():
    from b24app.cli import main

    out = CliRunner().invoke(main, ["--help"]).output
    for cmd in ("serve", "worker", "sandbox", "demo"):
        assert cmd in out


def _in_thread(fn):
    """Kept for the tests that still start Chromium themselves: tests/browser.py's in_thread."""
    return in_thread(fn, 90)


@pytest.mark.browser
def test_installer_page_calls_install_finish(live_app, portal, artifacts_dir):
    from tests.conftest import chromium_executable

    exe = chromium_executable()
    from b24app.inbox import Worker

    worker = Worker(live_app.services)               # runs the install job the installer page waits for
    threading.Thread(target=worker.run_forever, kwargs={"poll": 0.05}, daemon=True).start()
    live_app.install(portal, mode="frame", finish=False, wait=False)
    assert portal.installs[live_app.client_id].installed is False

    def drive():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=exe, headless=True,
                                   args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = b.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{portal.url}/marketplace/app/{live_app.client_id}/")
            # installer frame → BX24.installFinish() → the portal reloads → the main page in the frame
            page.wait_for_function("document.querySelector('#app-frame') && "
                                   "document.querySelector('#app-frame').dataset.installed === 'Y'", timeout=15000)
            frame = page.wait_for_selector("iframe").content_frame()
            frame.wait_for_selector("[data-b24app=main]", timeout=15000)
            page.screenshot(path=str(artifacts_dir / "app-after-install-finish.png"))
            b.close()

    try:
        _in_thread(drive)
    finally:
        worker.stop()
    assert portal.installs[live_app.client_id].installed is True


@pytest.mark.browser
def test_installer_page_shows_progress_error_and_retry(live_app, portal, artifacts_dir, monkeypatch):
    """A failing install job: the page shows the error and a retry button; the retry runs the job again,
    the bar reaches 100% and the page calls BX24.installFinish()."""
    from b24app.inbox import Worker
    from tests.conftest import chromium_executable
    from tests.registries import with_installer

    exe = chromium_executable()
    runs, healthy = [], threading.Event()

    def installer(services, member_id, progress=None):
        runs.append(healthy.is_set())
        progress(2, 5, "create smart_process visit")
        if not healthy.is_set():
            raise RuntimeError("QUERY_LIMIT_EXCEEDED: too many requests")
        progress(5, 5, "complete")

    live_app.services.registry = with_installer(installer)
    worker = Worker(live_app.services)
    threading.Thread(target=worker.run_forever, kwargs={"poll": 0.05}, daemon=True).start()
    live_app.install(portal, mode="frame", finish=False, wait=False)

    def drive():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=exe, headless=True,
                                   args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = b.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{portal.url}/marketplace/app/{live_app.client_id}/")
            frame = page.wait_for_selector("#app-frame").content_frame()
            frame.wait_for_selector("[data-b24app=install][data-state=failed]", timeout=15000)
            frame.wait_for_selector("#install-retry:not([hidden])", timeout=5000)
            errors = frame.inner_text("#install-errors")
            step = frame.inner_text("#install-step")
            width = frame.eval_on_selector("#install-bar", "e => e.style.width")
            page.screenshot(path=str(artifacts_dir / "install-failed-with-retry.png"))
            healthy.set()                    # the portal calms down; the admin presses "retry"
            frame.click("#install-retry")
            page.wait_for_function("document.querySelector('#app-frame') && "
                                   "document.querySelector('#app-frame').dataset.installed === 'Y'", timeout=15000)
            b.close()
            return errors, step, width

    try:
        errors, step, width = _in_thread(drive)
    finally:
        worker.stop()
    assert "QUERY_LIMIT_EXCEEDED" in errors
    assert "создаём смарт-процесс visit" in step and width == "40%"
    assert runs[-1] is True and False in runs
    assert portal.installs[live_app.client_id].installed is True


_SKIPPING_BROWSER_TEST = """
import pytest


@pytest.mark.browser
def test_pretends_chromium_is_missing():
    pytest.skip("chromium is not installed")
"""


@pytest.mark.parametrize("required, outcome", [("1", "1 failed"), ("", "1 skipped")])
def test_browser_tests_cannot_skip_when_the_browser_is_required(tmp_path, required, outcome):
    """Whatever way a browser test checks for Chromium, B24APP_REQUIRE_BROWSER=1 turns its skip into a
    failure (tests/conftest.py), so CI cannot go green without having run them."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "test_skipping.py").write_text(_SKIPPING_BROWSER_TEST)
    env = {**os.environ, "B24APP_REQUIRE_BROWSER": required}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
                        "-c", str(root / "pyproject.toml"), "--rootdir", str(root), str(tmp_path)],
                       cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert outcome in r.stdout, r.stdout + r.stderr
    if required:
        assert "B24APP_REQUIRE_BROWSER=1, but the browser test skipped" in r.stdout
