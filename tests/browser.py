"""The one Chromium start-up for browser tests.

Playwright's sync API parks an asyncio loop on the calling thread; on the test's main thread fast_bitrix24
would then return Tasks instead of results (tests/sandbox). So a browser session runs in its own thread:

    def drive(browser):
        page = browser.new_page(viewport=PHONE)
        frame = open_app_frame(page, url)
        ...
        return what_the_test_checks

    out = in_browser(drive)

``in_browser`` finds Debian's Chromium (skips, or fails under ``B24APP_REQUIRE_BROWSER=1``), launches it
headless, hands it to ``drive`` in a thread, closes it and returns ``drive``'s result or re-raises its error.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from tests.conftest import chromium_executable

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1300, "height": 900}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def in_thread(fn: Callable[[], Any], timeout: float = 240) -> Any:
    """Run ``fn`` in its own thread; its exception is re-raised here; a hang past ``timeout`` fails."""
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if "error" in box:
        raise box["error"]
    assert "result" in box, f"the browser session did not finish in {timeout:.0f} s"
    return box["result"]


def in_browser(drive: Callable[[Any], Any], timeout: float = 240) -> Any:
    """Launch headless Chromium in a thread, give it to ``drive(browser)``, close it, return the result."""
    exe = chromium_executable()

    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=exe, headless=True, args=LAUNCH_ARGS)
            try:
                return drive(b)
            finally:
                b.close()
    return in_thread(run, timeout)


def open_app_frame(page, url: str, ready: str | None = None, timeout: float = 20000):
    """Open a portal page that embeds the app (``/marketplace/app/...``) and return the app's frame;
    with ``ready``, wait until that selector is in the frame (a state the page sets, never a fixed sleep)."""
    page.goto(url)
    frame = page.wait_for_selector("iframe", timeout=timeout).content_frame()
    if ready:
        frame.wait_for_selector(ready, timeout=timeout)
    return frame
