"""The deal tab (CRM_DEAL_DETAIL_TAB "Calculation") in headless Chromium inside the sandbox portal's deal
page, as the manager sees it once the engineer is done: the two variants side by side with their lines,
totals and margins; the manager picks one — the deal gets its product rows and amount, the tab marks the
choice and offers to order the work. Screenshots land in test-artifacts/."""
from __future__ import annotations

import pytest

from b24sandbox.page import placements
from tests.app.test_pages import _in_thread
from tests.conftest import chromium_executable

from .conftest import ENGINEER, MANAGER
from .test_flow_http import V1, V2, _ok, _variant


@pytest.mark.browser
def test_manager_sees_variants_side_by_side_and_picks_one(flow, artifacts_dir):
    f = flow
    exe = chromium_executable()
    _ok(f.call("PUT", "/api/calc/settings", 1, {"coefficients": {str(f.sections["new"]): "1.2"}}))
    deal = f.new_deal("Окна, Лесная 5")
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal,
                                                             "target": {"kind": "user", "id": ENGINEER}}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{calc}/take", ENGINEER))
    for v in (V1, V2):
        _ok(f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, _variant(f, v)))
    _ok(f.call("POST", f"/api/calc/{calc}/done", ENGINEER))
    tab = next(p for p in placements(f.portal, "CRM_DEAL_DETAIL_TAB") if p["handler"].endswith("/placements/calc-deal"))
    url = f"{f.portal.url}/crm/deal/details/{deal}/?tab={tab['id']}&user={MANAGER}"

    def drive():
        from playwright.sync_api import sync_playwright

        out = {}
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = b.new_page(viewport={"width": 1300, "height": 900})
            page.goto(url)
            frame = page.wait_for_selector("#app-frame", timeout=15000).content_frame()
            frame.wait_for_selector("body[data-b24app-loaded=done]", timeout=20000)
            out["cards"] = frame.evaluate("""() => Array.from(document.querySelectorAll('[data-b24app=variant]')).map(
                c => ({id: c.dataset.id, name: c.querySelector('[data-b24app=variant-name]').textContent,
                       total: c.querySelector('[data-b24app=variant-total]').textContent,
                       lines: c.querySelectorAll('[data-b24app=line]').length,
                       top: Math.round(c.getBoundingClientRect().top),
                       left: Math.round(c.getBoundingClientRect().left)}))""")
            out["status"] = frame.inner_text("[data-b24app=status]")
            page.screenshot(path=str(artifacts_dir / "calc-deal-tab-variants.png"), full_page=True)
            f.vs.advance(hours=0.02)
            frame.click("[data-b24app=variant][data-id=v2] [data-b24app=choose]")
            frame.wait_for_selector("body[data-b24app-loaded='done:v2']", timeout=20000)
            out["chosen"] = frame.eval_on_selector_all("[data-b24app=variant].chosen", "n => n.map(x => x.dataset.id)")
            out["order"] = frame.is_visible("[data-b24app=order]")
            page.screenshot(path=str(artifacts_dir / "calc-deal-tab-chosen.png"), full_page=True)
            b.close()
        return out

    out = _in_thread(drive)
    cards = out["cards"]
    assert [(c["id"], c["name"], c["total"], c["lines"]) for c in cards] == [
        ("v1", "Стандарт", "Итого: 21301.50", 3), ("v2", "С подоконниками", "Итого: 23130.00", 2)]
    assert cards[0]["top"] == cards[1]["top"] and cards[0]["left"] < cards[1]["left"]       # side by side
    assert out["status"] == "Этап: Расчёт завершён"
    assert out["chosen"] == ["v2"] and out["order"] is True
    assert f.deal(deal)["OPPORTUNITY"] == "23130.00" and f.deal_stage(deal) == "proposal_approval"
    assert (artifacts_dir / "calc-deal-tab-chosen.png").stat().st_size > 0
