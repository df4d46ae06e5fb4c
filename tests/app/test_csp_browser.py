"""Every page of the app under its Content-Security-Policy (script-src 'self' + BX24.js, no inline script)
in headless Chromium inside the sandbox portal page: the installer finishes the install, the main page,
each menu placement (orders map, visit calendar, intake screen, dashboards) and the phone page render what
their fetches bring and report no CSP violation — neither a `securitypolicyviolation` event in any frame
nor a "Content Security Policy" console message. A canary inline script proves the listener hears one.
Each page also wears the Bitrix24 look: its design tokens are loaded, its font is the system font and a
form's main button is Bitrix24's blue (screenshots look-*.png)."""
from __future__ import annotations

import threading

import pytest
import requests

from b24app import session as page_sessions
from b24sandbox.page import placements
from tests.browser import in_browser

# runs in every frame before the page's own scripts (CDP injection: not subject to the page's CSP)
LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.effectiveDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
});"""

# handler → what the page renders once its first fetch has answered
READY = {"/placements/orders-map": "#count[data-count]",
         "/placements/visit-calendar": "[data-b24app=calendar]",
         "/placements/dispatcher": "body[data-b24app=desk][data-b24app-ready]",
         "/placements/dashboards": "body[data-b24app-loaded]",
         "/placements/engineers": "body[data-b24app=calc-board][data-b24app-loaded]",
         "/placements/field-day": "main[data-b24app=day][data-ready]"}


@pytest.mark.browser
def test_pages_run_under_the_csp_without_a_violation(live_app, portal, artifacts_dir):
    from b24app.inbox import Worker
    worker = Worker(live_app.services)               # runs the install job the installer page waits for
    threading.Thread(target=worker.run_forever, kwargs={"poll": 0.05}, daemon=True).start()
    live_app.install(portal, mode="frame", finish=False, wait=False)
    base = f"{portal.url}/marketplace/app/{live_app.client_id}/"

    def drive(b):
        out = {"console": [], "violations": {}, "policies": {}, "look": {}}
        ctx = b.new_context(viewport={"width": 1200, "height": 900})
        ctx.add_init_script(LISTEN)
        page = ctx.new_page()
        page.on("console", lambda m: out["console"].append(m.text)
                if "content security policy" in m.text.lower() else None)
        page.on("response", lambda r: out["policies"].__setitem__(r.url.split("?")[0].replace(live_app.url, ""),
                                                                  r.headers.get("content-security-policy"))
                if r.url.startswith(live_app.url) and r.request.resource_type == "document" else None)

        def heard(frame, name):
            out["violations"][name] = frame.evaluate("window.__csp.slice()")
            # the Bitrix24 look: its design tokens reached the page, its font and its blue main button
            out["look"][name] = frame.evaluate("""() => {
                const css = getComputedStyle(document.documentElement), body = getComputedStyle(document.body);
                const b = document.createElement('button'); b.type = 'submit'; document.body.appendChild(b);
                const bg = getComputedStyle(b).backgroundColor; b.remove();
                return [css.getPropertyValue('--ui-color-accent-main-primary').trim(), body.fontFamily, bg]; }""")

        # the installer (install.js → BX24.installFinish) hands over to the main page in the frame
        page.goto(base)
        page.wait_for_function("document.querySelector('#app-frame') && "
                               "document.querySelector('#app-frame').dataset.installed === 'Y'", timeout=20000)
        frame = page.wait_for_selector("iframe#app-frame").content_frame()
        frame.wait_for_selector("[data-b24app=settings-roles] [name=user_q]", timeout=20000)   # admin scripts ran
        heard(frame, "main")
        session = frame.evaluate("B24.cfg.session")

        # the canary: an inline script is refused and heard
        out["canary_ran"] = frame.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__inlineRan = 1'; document.body.appendChild(s);
            return !!window.__inlineRan; }""")
        frame.wait_for_function("() => window.__csp.length > 0", timeout=10000)
        out["canary"] = frame.evaluate("window.__csp.slice()")

        for handler, ready in READY.items():
            item = next(p for p in placements(portal) if p["handler"].endswith(handler))
            page.goto(f"{base}?placement={item['id']}")
            frame = page.wait_for_selector("iframe", timeout=15000).content_frame()
            frame.wait_for_selector(ready, state="attached", timeout=20000)
            heard(frame, handler)
            page.screenshot(path=str(artifacts_dir / f"look-{handler.rsplit('/', 1)[-1]}.png"))
            if handler == "/placements/dashboards":        # its Plans (person picker) and Power BI tabs too
                frame.click("[data-b24app=tabs] [data-tab=plans]")
                frame.wait_for_selector("[data-b24app=plans][data-b24app-ready]", timeout=20000)
                page.screenshot(path=str(artifacts_dir / "look-dashboards-plans.png"))
                frame.click("[data-b24app=tabs] [data-tab=feed]")
                frame.wait_for_selector("[data-b24app=feed][data-b24app-ready]", timeout=20000)
                heard(frame, handler)

        # the phone page (no frame, no BX24.js)
        link = requests.post(live_app.url + "/api/visits/phone-link", headers={page_sessions.HEADER: session},
                             timeout=30).json()["url"]
        page.goto(link)
        page.wait_for_selector("[data-b24app=calendar]", timeout=20000)
        heard(page.main_frame, "phone")
        page.screenshot(path=str(artifacts_dir / "csp-phone-page.png"))
        return out

    try:
        out = in_browser(drive)
    finally:
        worker.stop()
    assert out["canary_ran"] is False and len(out["canary"]) == 1 and out["canary"][0].startswith("script-src")
    assert out["violations"] == {name: [] for name in ["main", *READY, "phone"]}, out["violations"]
    for name, (primary, font, button) in out["look"].items():
        assert primary == "#0075ff" and "system-ui" in font, (name, primary, font)
        assert button == "rgb(0, 117, 255)", (name, button)       # a form's main button is Bitrix24's blue
    assert [t for t in out["console"] if "__inlineRan" not in t and "inline" not in t.lower()] == [], out["console"]
    assert len([t for t in out["console"] if "inline" in t.lower()]) <= 1, out["console"]   # the canary's own
    bx24 = portal.url
    for path in ("/install", "/app", *READY):
        assert f"script-src 'self' {bx24};" in (out["policies"].get(path) or ""), (path, out["policies"])
    assert any(p.startswith("/m/") and "script-src 'self'" in (v or "") for p, v in out["policies"].items())
