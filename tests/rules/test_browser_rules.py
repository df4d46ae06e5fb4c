"""The deal rules page (LEFT_MENU "Deal rules") and the public NPS form in headless Chromium at 390×844:
the administrator sees seed 004's rules, picks the production head by name, switches a rule off, saves
(the stored document changes), uploads a broken file (refused with its line); a client fills the survey on
a phone with all fives and is invited to review. Screenshots in test-artifacts/."""
from __future__ import annotations

import re

import pytest

from b24sandbox.page import placements
from rules import model
from tests.browser import PHONE, in_browser, open_app_frame
from tests.rules.conftest import PASSED


@pytest.mark.browser
def test_the_rules_page_on_a_phone(furniture, artifacts_dir, tmp_path):
    f = furniture
    item = next(p for p in placements(f.portal, "LEFT_MENU") if p["handler"].endswith("/placements/rules"))
    url = f"{f.portal.url}/marketplace/app/{f.live.client_id}/?placement={item['id']}&user=1"
    broken = tmp_path / "rules.json"
    broken.write_text('{\n  "version": 1,\n  "rules": [\n    {"id": "x", "trigger": {"type": "sometimes"}}\n  ]\n}\n',
                      encoding="utf-8")

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=PHONE)
        frame = open_app_frame(page, url, "body[data-b24app-loaded='first:22']")
        out["titles"] = frame.eval_on_selector_all("[data-b24app=rule-title]", "els => els.map(e => e.textContent)")
        out["head_name"] = frame.inner_text("tr[data-id=production_task] [data-b24app=person]")
        out["when"] = frame.inner_text("tr[data-id=payment_wait] td:nth-child(3)")
        page.screenshot(path=str(artifacts_dir / "rules-settings-phone.png"), full_page=True)
        row = "tr[data-id=production_task] .person"
        frame.fill(f"{row} input[type=search]", "Тимур")
        frame.click(f"{row} button[data-user-id='{f.technologist}']")
        frame.uncheck("tr[data-id=payment_wait] [data-b24app=enabled]")
        frame.click("[data-b24app=save]")
        frame.wait_for_selector("body[data-b24app-loaded='saved:22']")
        out["saved_name"] = frame.inner_text("tr[data-id=production_task] [data-b24app=person]")
        frame.set_input_files("[data-b24app=import]", str(broken))
        frame.wait_for_selector("body[data-b24app-loaded='import-refused']")
        out["refusal"] = frame.inner_text("[data-b24app=status]")
        page.screenshot(path=str(artifacts_dir / "rules-settings-import-refused.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert "Ожидание оплаты больше 2 рабочих дней" in out["titles"] and len(out["titles"]) == 22
    assert out["head_name"] == "Степан Цехов" and out["saved_name"] == "Тимур Технологов"
    assert out["when"] == "сделка: «Ожидание оплаты»: дольше срока"          # names, not C9:PAYMENT
    doc = model.load(f.live.store.kv, f.member_id)
    prod = next(r for r in doc.rules if r.id == "production_task")
    assert prod.actions[0]["to"] == [{"user": f.technologist}]
    assert next(r for r in doc.rules if r.id == "payment_wait").enabled is False
    assert "строка 4" in out["refusal"] and "rules[0].trigger.type" in out["refusal"]
    assert len(doc.rules) == 22                                # the broken file changed nothing
    for name in ("rules-settings-phone.png", "rules-settings-import-refused.png"):
        assert (artifacts_dir / name).stat().st_size > 10_000


@pytest.mark.browser
def test_the_nps_form_on_a_phone_with_all_fives(furniture, artifacts_dir):
    f = furniture
    deal = f.add_deal("INSTALL", TITLE="Витрина", UF_CRM_CLOSING_DOCS="акт.pdf", UF_CRM_PAID_FULL="Y", **PASSED)
    f.run_events()
    f.move(deal, "WON")
    f.run_events()
    [note] = [n for n in f.notes(f.manager) if "/f/nps/" in n["MESSAGE"]]
    path = re.search(r"(/f/nps/[A-Za-z0-9_\-]+)", note["MESSAGE"]).group(1)

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=PHONE)
        page.goto(f.live.url + path)
        page.wait_for_selector("[data-b24app=nps][data-state=form]")
        out["fits"] = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(artifacts_dir / "nps-form-phone.png"), full_page=True)
        for q in ("manager", "manufacturing", "delivery", "installation"):
            page.click(f"fieldset[data-question={q}] label:has(input[value='5'])")
        page.fill("#comment", "Спасибо!")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-b24app=nps][data-state=positive]")
        out["review"] = page.get_attribute("[data-review]", "href")
        page.screenshot(path=str(artifacts_dir / "nps-form-phone-thanks.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert out["fits"] is True and out["review"] == "https://yandex.ru/maps/"
    copy = f.client.call("crm.deal.list", {"filter": {"CATEGORY_ID": f.nps_category}, "select": ["ID", "STAGE_ID"]})
    assert copy[0]["STAGE_ID"] == f"C{f.nps_category}:WON"
    for name in ("nps-form-phone.png", "nps-form-phone-thanks.png"):
        assert (artifacts_dir / name).stat().st_size > 10_000
