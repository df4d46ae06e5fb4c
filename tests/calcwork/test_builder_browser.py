"""The variant builder in headless Chromium inside the sandbox portal's engineers' page, as the engineer
who took a request builds two variants: the catalog by direction ("Новостройки", its default coefficient
1.2 from the settings), lines with group, quantity and own coefficient, a fixed-price line; the totals and
the margin the page shows are the server's (Decimal) after every edit; a bad coefficient is answered in
Russian; saved, then "Calculation done". Screenshots in test-artifacts/."""
from __future__ import annotations

import pytest

from b24sandbox.page import placements
from tests.browser import DESKTOP, PHONE, in_browser, open_app_frame

from .conftest import ENGINEER, MANAGER
from .test_flow_http import _ok


def _wait_text(frame, selector: str, text: str, timeout: float = 20000):
    frame.wait_for_function("([s, t]) => { const n = document.querySelector(s); return n && n.textContent === t; }",
                            arg=[selector, text], timeout=timeout)


def _line(n: int, field: str) -> str:
    return f"[data-b24app=edit-line][data-n='{n}'] input[data-field={field}]"


@pytest.mark.browser
def test_engineer_builds_two_variants_with_live_server_totals(flow, artifacts_dir):
    f = flow
    _ok(f.call("PUT", "/api/calc/settings", 1, {"coefficients": {str(f.sections["new"]): "1.2"}}))
    deal = f.new_deal("Окна, Лесная 7")
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal,
                                                             "target": {"kind": "user", "id": ENGINEER}}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{calc}/take", ENGINEER))
    item = next(p for p in placements(f.portal, "LEFT_MENU") if p["handler"].endswith("/placements/engineers"))
    url = f"{f.portal.url}/marketplace/app/{f.vs.live.client_id}/?placement={item['id']}&user={ENGINEER}"
    products = {k: str(v) for k, v in f.products.items()}

    def add(frame, key):
        frame.click(f"[data-b24app=product][data-id='{products[key]}'] [data-b24app=add-product]")

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=DESKTOP)
        frame = open_app_frame(page, url, "body[data-b24app-loaded]")
        f.vs.advance(hours=0.02)
        frame.click("[data-b24app=scope-mine]")
        frame.wait_for_selector("body[data-b24app-loaded='mine:1']")
        frame.click(f"[data-b24app=card][data-id='{calc}'] [data-b24app=open]")
        frame.wait_for_selector(f"[data-b24app=builder][data-b24app-open='{calc}']")
        out["directions"] = frame.eval_on_selector_all("[data-b24app=direction] option", "o => o.map(x => x.text)")
        frame.select_option("[data-b24app=direction]", str(f.sections["new"]))
        out["listed"] = frame.eval_on_selector_all("[data-b24app=product]", "n => n.map(x => x.dataset.id)")
        # variant 1: two catalog lines (the direction's coefficient, an own one) and a fixed-price line
        frame.fill("[data-b24app=variant-name]", "Стандарт")
        add(frame, "glass")
        out["default_coef"] = frame.input_value(_line(1, "coefficient"))
        frame.fill(_line(1, "quantity"), "3")
        frame.fill(_line(1, "group"), "Окна")
        add(frame, "slope")
        frame.fill(_line(2, "quantity"), "2")
        frame.fill(_line(2, "coefficient"), "abc")
        _wait_text(frame, "[data-b24app=builder-status]", "Ошибка: Вариант: line 2: coefficient is not a number: "
                                                            "'abc'.")
        frame.fill(_line(2, "coefficient"), "1.5")
        frame.fill(_line(2, "group"), "Отделка")
        frame.click("[data-b24app=add-fixed]")
        frame.fill(_line(3, "name"), "Выезд замерщика")
        frame.fill(_line(3, "price"), "1500")
        frame.fill(_line(3, "cost"), "700")
        _wait_text(frame, "[data-b24app=preview-total]", "Итого: 21301.50")
        out["margin"] = frame.inner_text("[data-b24app=preview-margin]")
        out["groups"] = frame.inner_text("[data-b24app=preview-groups]")
        out["amounts"] = frame.eval_on_selector_all("[data-b24app=line-amount]", "n => n.map(x => x.textContent)")
        out["status"] = frame.inner_text("[data-b24app=builder-status]")
        page.screenshot(path=str(artifacts_dir / "calc-builder-variant1.png"), full_page=True)
        f.vs.advance(hours=0.02)
        frame.click("[data-b24app=save-variant]")
        frame.wait_for_selector("[data-b24app=builder][data-b24app-saved='1']")
        # variant 2: the same glass at 1.1 and the sills
        frame.fill("[data-b24app=variant-name]", "С подоконниками")
        add(frame, "glass")
        frame.fill(_line(1, "quantity"), "3")
        frame.fill(_line(1, "coefficient"), "1.1")
        add(frame, "sill")
        frame.fill(_line(2, "quantity"), "3")
        _wait_text(frame, "[data-b24app=preview-total]", "Итого: 23130.00")
        f.vs.advance(hours=0.02)
        frame.click("[data-b24app=save-variant]")
        frame.wait_for_selector("[data-b24app=builder][data-b24app-saved='2']")
        out["saved"] = frame.eval_on_selector_all(
            "[data-b24app=saved-variant]", "n => n.map(x => [x.dataset.id, x.querySelector('.total').textContent])")
        page.screenshot(path=str(artifacts_dir / "calc-builder-two-variants.png"), full_page=True)
        f.vs.advance(hours=0.02)
        frame.click("[data-b24app=calc-done]")
        frame.wait_for_selector("[data-b24app=builder][data-b24app-stage=done]")
        frame.wait_for_selector("body[data-b24app-loaded='mine:0']")          # done: off the engineer's board
        out["after_done"] = [frame.query_selector("[data-b24app=editor]") is None,
                             frame.query_selector("[data-b24app=edit-variant]") is None,
                             len(frame.query_selector_all("[data-b24app=saved-variant]"))]
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(artifacts_dir / "calc-builder-done-phone.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert out["directions"][0] == "Все направления" and "Новостройки · Коэф. 1.2" in out["directions"]
    assert "Вторичный фонд · Коэф. 1" in out["directions"]
    assert sorted(out["listed"]) == sorted(products[k] for k in ("glass", "slope", "sill"))   # not "dismantle"
    assert out["default_coef"] == "1.2"
    assert out["amounts"] == ["16200.00", "3601.50", "1500.00"]
    assert out["margin"] == "Себестоимость: 16601.00 · Маржа: 4700.50 (22.1 %)"
    assert out["groups"] == "без группы: 1500.00 · Окна: 16200.00 · Отделка: 3601.50"
    assert out["status"] == ""                                # the coefficient's error went with the fix
    assert out["saved"] == [["v1", "Итого: 21301.50"], ["v2", "Итого: 23130.00"]]
    assert out["after_done"] == [True, True, 2]                # done: read only, both variants shown
    stored = _ok(f.call("GET", f"/api/calc/{calc}", MANAGER))
    assert stored["stage"] == "done" and f.deal_stage(deal) == "calc_provided"
    assert [(v["name"], v["total"], v["margin"]) for v in stored["variants"]] == [
        ("Стандарт", "21301.50", "4700.50"), ("С подоконниками", "23130.00", "2730.00")]
    assert [x["coefficient"] for x in stored["variants"][0]["lines"]] == ["1.2", "1.5", None]
    assert stored["variants"][0]["lines"][2]["fixed"] is True
    for name in ("calc-builder-variant1.png", "calc-builder-two-variants.png", "calc-builder-done-phone.png"):
        assert (artifacts_dir / name).stat().st_size > 10_000
