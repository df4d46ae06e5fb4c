"""`make demo` end to end: the printed URL shows the app's main page inside the sandbox portal page."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo(tmp_path):
    portal_port, app_port = _free_port(), _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "b24app.cli", "demo", "--host", "127.0.0.1",
         "--portal-port", str(portal_port), "--app-port", str(app_port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    url = None
    deadline = time.time() + 60
    while time.time() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        m = re.search(r"Open (http://\S+)", line)
        if m:
            url = m.group(1)
    if url is None:
        proc.kill()
        pytest.fail("demo printed no URL:\n" + "".join(lines))
    yield url, lines
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.browser
def test_demo_url_shows_app_inside_portal(demo, browser, artifacts_dir):
    url, _ = demo
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(url)
    frame_el = page.wait_for_selector("iframe", timeout=15000)
    frame = frame_el.content_frame()
    # The app's own main page, rendered after the portal's form POST and frame verification.
    frame.wait_for_selector("[data-b24app=main]", timeout=15000)
    text = frame.inner_text("body")
    assert "b24app" in text
    assert "ошибка" not in text.lower()
    page.screenshot(path=str(artifacts_dir / "demo-portal-with-app.png"), full_page=True)
    page.close()
