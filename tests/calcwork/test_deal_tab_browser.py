"""The deal tab (CRM_DEAL_DETAIL_TAB "Calculation") in headless Chromium inside the sandbox portal's deal
page, as the manager sees it once the engineer is done: the two variants side by side with their lines,
totals and margins; the manager raises a line's amount beyond the allowed range — refused, he asks the head
for approval from the tab; the head opens the same tab and approves — the deal gets its product rows and
amount, the tab marks the choice with its proposal and offers to order the work. Screenshots in
test-artifacts/."""
from __future__ import annotations

import pytest

from b24sandbox.page import placements
from tests.browser import DESKTOP, in_browser

from .conftest import ADMIN, ENGINEER, MANAGER
from .test_flow_http import V1, V2, _ok, _variant


@pytest.mark.browser
def test_manager_sees_variants_side_by_side_and_picks_one(flow, artifacts_dir):
    f = flow
    _ok(f.call("PUT", "/api/calc/settings", 1, {"coefficients": {str(f.sections["new"]): "1.2"}}))
    deal = f.new_deal("Окна, Лесная 5")
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal,
                                                             "target": {"kind": "user", "id": ENGINEER}}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{calc}/take", ENGINEER))
    for v in (V1, V2):
        _ok(f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, _variant(f, v)))
    _ok(f.call("POST", f"/api/calc/{calc}/done", ENGINEER))
    tab = next(p for p in placements(f.portal, "CRM_DEAL_DETAIL_TAB") if p["handler"].endswith("/placements/calc-deal"))
    url = f"{f.portal.url}/crm/deal/details/{deal}/?tab={tab['id']}&user={{user}}"

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url.format(user=MANAGER))
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
        # the manager lowers nothing but raises the sills beyond ±10 %: refused, he asks the head instead
        f.vs.advance(hours=0.02)
        frame.fill("[data-b24app=variant][data-id=v2] [data-b24app=amount][data-n='2']", "9600")
        frame.click("[data-b24app=variant][data-id=v2] [data-b24app=choose]")
        frame.wait_for_selector("[data-b24app=variant][data-id=v2] [data-b24app=request-approval]", timeout=20000)
        out["refusal"] = frame.inner_text("[data-b24app=status]")
        frame.fill("[data-b24app=variant][data-id=v2] [name=reason]", "Сложный монтаж")
        f.vs.advance(hours=0.02)
        frame.click("[data-b24app=variant][data-id=v2] [data-b24app=request-approval]")
        frame.wait_for_selector("body[data-b24app-loaded='done:approval']", timeout=20000)
        out["approval"] = frame.inner_text("[data-b24app=approval]")
        out["manager_can_decide"] = frame.query_selector("[data-b24app=approval] [data-b24app=approve]") is not None
        page.screenshot(path=str(artifacts_dir / "calc-deal-tab-approval-requested.png"), full_page=True)
        # the head opens the same tab and approves
        head = browser.new_page(viewport=DESKTOP)
        head.goto(url.format(user=ADMIN))
        hframe = head.wait_for_selector("#app-frame", timeout=15000).content_frame()
        hframe.wait_for_selector("body[data-b24app-loaded='done:approval']", timeout=20000)
        f.vs.advance(hours=0.02)
        hframe.click("[data-b24app=approval] [data-b24app=approve]")
        hframe.wait_for_selector("body[data-b24app-loaded='done:v2']", timeout=20000)
        out["chosen"] = hframe.eval_on_selector_all("[data-b24app=variant].chosen", "n => n.map(x => x.dataset.id)")
        out["order"] = hframe.is_visible("[data-b24app=order]")
        out["document"] = hframe.inner_text("[data-b24app=variant].chosen [data-b24app=document]")
        head.screenshot(path=str(artifacts_dir / "calc-deal-tab-chosen.png"), full_page=True)
        return out

    out = in_browser(drive)
    cards = out["cards"]
    assert [(c["id"], c["name"], c["total"], c["lines"]) for c in cards] == [
        ("v1", "Стандарт", "Итого: 21301.50", 3), ("v2", "С подоконниками", "Итого: 23130.00", 2)]
    assert cards[0]["top"] == cards[1]["top"] and cards[0]["left"] < cards[1]["left"]       # side by side
    assert out["status"] == "Этап: Расчёт завершён"
    assert "7452.00–9108.00 (±10 %): нужно согласование руководителя" in out["refusal"]
    assert "Подоконник ПВХ: 9600.00 (7452.00–9108.00)" in out["approval"] and "Сложный монтаж" in out["approval"]
    assert out["manager_can_decide"] is False
    assert out["chosen"] == ["v2"] and out["order"] is True
    assert out["document"] == f"proposal-deal-{deal}.xlsx"
    assert f.deal(deal)["OPPORTUNITY"] == "24450.00" and f.deal_stage(deal) == "proposal_approval"
    for name in ("calc-deal-tab-variants.png", "calc-deal-tab-approval-requested.png", "calc-deal-tab-chosen.png"):
        assert (artifacts_dir / name).stat().st_size > 10_000
