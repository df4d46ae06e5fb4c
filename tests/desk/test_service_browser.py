"""The service desk in headless Chromium inside the sandbox portal: the call card (CALL_CARD) of a ringing
call shows the caller's company and machines (getStatus gives the number), the dispatcher's page pops the
ringing call by itself, and the work-order registry colours each order by its status. Screenshots are saved
as artefacts."""
from __future__ import annotations

import pytest

from b24sandbox.methods import telephony
from b24sandbox.page import placements
from tests.browser import DESKTOP, in_browser, open_app_frame

from .test_service_desk import DISPATCHER, ENGINEER, new_order, sd, tok  # noqa: F401 - sd: the fixture


@pytest.mark.browser
def test_the_call_card_and_the_dispatcher_page_pop_the_caller(sd, artifacts_dir):
    vs = sd.vs
    portal, live = vs.portal, vs.live
    call_id = telephony.incoming_call(portal, "+7 916 555-12-34", line="reg1")
    portal.wait_events()
    vs.run_events(drain=False)
    item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/dispatcher"))
    card_url = f"{portal.url}/telephony/call/{call_id}/?user={DISPATCHER}"
    desk_url = f"{portal.url}/marketplace/app/{live.client_id}/?placement={item['id']}&user={DISPATCHER}"

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=DESKTOP)
        frame = open_app_frame(page, card_url, ready="body[data-b24app-loaded='+79165551234']")
        out["card_company"] = frame.inner_text("[data-b24app=company-title]")
        out["card_rows"] = frame.evaluate("""() => Array.from(document.querySelectorAll('[data-b24app=equipment]'))
            .map(tr => [tr.dataset.id, tr.querySelector('[data-b24app=warranty-text]').textContent])""")
        page.screenshot(path=str(artifacts_dir / "desk-call-card.png"), full_page=True)
        vs.advance(hours=0.02)
        frame = open_app_frame(page, desk_url, ready="body[data-b24app-loaded='+79165551234']")
        out["banner"] = frame.inner_text("[data-b24app=call]")
        out["call_id"] = frame.get_attribute("[data-b24app=call]", "data-call-id")
        page.screenshot(path=str(artifacts_dir / "desk-popped-by-call.png"), full_page=True)
        # the dispatcher takes the request during the call: the machine, the request type → the scenario
        frame.check(f"input[name=equipment-{sd.company_id}][value='{sd.equipment['harvester']}']")
        vs.advance(hours=0.02)
        frame.select_option("[data-b24app=company] [data-b24app=request-type]", "repair")
        frame.wait_for_selector("[data-b24app=company] [data-b24app=proposal][data-scenario]")
        out["proposal"] = frame.inner_text("[data-b24app=company] [data-b24app=proposal]")
        frame.fill("[data-b24app=company] textarea[name=comment]", "Стук в двигателе")
        vs.advance(hours=0.02)
        frame.click("[data-b24app=company] [data-b24app=new-request]")
        frame.wait_for_selector("[data-b24app=request-msg][data-deal-id]")
        out["deal_id"] = int(frame.get_attribute("[data-b24app=request-msg]", "data-deal-id"))
        return out

    out = in_browser(drive)
    assert out["card_company"] == "ООО «СтарТек-Агро»"
    texts = dict(out["card_rows"])
    assert texts[str(sd.equipment["seeder"])] == "моточасы выработаны"
    assert texts[str(sd.equipment["harvester"])].startswith("истекла ")
    assert out["call_id"] == call_id and "+79165551234" in out["banner"] and "Входящий звонок" in out["banner"]
    assert out["proposal"] == "Сценарий: Постгарантийный ремонт"
    from .test_service_desk import _ids

    ids = _ids(sd)
    deal = vs.client.call("crm.deal.get", {"id": out["deal_id"]})
    assert deal["CATEGORY_ID"] == str(ids.pipeline("svc_post_repair").category_id)
    assert (deal[ids.deal_field("svc_call_id")], deal[ids.deal_field("svc_reason")]) == (call_id, "Стук в двигателе")


@pytest.mark.browser
def test_the_registry_colours_orders_by_status(sd, artifacts_dir):
    vs = sd.vs
    portal, live = vs.portal, vs.live
    fresh = new_order(sd, "harvester")
    waiting = new_order(sd, "seeder", "maintenance")
    r = sd.put(f"/api/desk/orders/{waiting['deal_id']}/engineer",
               {"engineer_id": ENGINEER, "tool_cell": "A-7", "parts_ordered": True, "parts_date": "2026-12-24",
                "done": True}, token=tok(sd, ENGINEER, "engineer"))
    assert r.status_code == 200, r.text
    item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/service-registry"))
    url = f"{portal.url}/marketplace/app/{live.client_id}/?placement={item['id']}"

    def drive(browser):
        page = browser.new_page(viewport=DESKTOP)
        frame = open_app_frame(page, url, ready="body[data-b24app-loaded]")
        rows = frame.evaluate("""() => Array.from(document.querySelectorAll('[data-b24app=order]')).map(tr => ({
            id: tr.dataset.id, status: tr.dataset.status, cls: tr.className,
            stage: tr.querySelector('[data-b24app=stage]').textContent,
            badge: tr.querySelector('[data-b24app=status-badge]').textContent,
            colour: getComputedStyle(tr.children[0]).borderLeftColor}))""")
        frame.wait_for_selector("#stats[data-loaded]")
        rows.append({"id": "stats", "text": frame.inner_text("[data-b24app=stats]")})
        page.screenshot(path=str(artifacts_dir / "desk-registry.png"), full_page=True)
        return rows

    rows = {r["id"]: r for r in in_browser(drive)}
    a, b = rows[str(fresh["deal_id"])], rows[str(waiting["deal_id"])]
    assert (a["status"], a["stage"], a["badge"]) == ("not_in_work", "Новая заявка", "не в работе")
    assert (b["status"], b["stage"], b["badge"]) == ("waiting_parts", "Ожидание запчастей", "ждёт запчасти")
    assert "Акрос 595" in rows["stats"]["text"] and "Не заводится — 1" in rows["stats"]["text"]
    assert a["colour"] != b["colour"] and "0, 0, 0, 0" not in b["colour"] and b["colour"] != "rgb(0, 0, 0)"


@pytest.mark.browser
def test_the_engineer_and_the_service_head_fill_their_blocks_on_the_registry(sd, artifacts_dir):
    from .test_service_desk import HEAD, MECH_A, MECH_B, _busy_10_12, next_workday

    vs = sd.vs
    portal, live = vs.portal, vs.live
    order = new_order(sd, "harvester")
    day = next_workday(sd.today)
    _busy_10_12(sd, day)
    item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/service-registry"))
    base = f"{portal.url}/marketplace/app/{live.client_id}/?placement={item['id']}"
    row = f"[data-b24app=order][data-id='{order['deal_id']}']"

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=DESKTOP)
        # the engineer: his block only; the tool cell and "done" move the order on
        frame = open_app_frame(page, base + f"&user={ENGINEER}", ready="body[data-b24app-loaded]")
        frame.click(row)
        out["engineer_sees_head"] = frame.locator("[data-b24app=head-block]").count()
        frame.fill("[data-b24app=engineer-block] input[name=tool_cell]", "K-9")
        frame.check("[data-b24app=engineer-block] input[name=done]")
        vs.advance(hours=0.02)
        frame.click("[data-b24app=save-engineer]")
        frame.wait_for_selector("[data-b24app=engineer-msg][data-done]")
        out["after_engineer"] = frame.get_attribute(row, "data-status")
        page.screenshot(path=str(artifacts_dir / "desk-registry-engineer.png"), full_page=True)
        # the service head: 11:00–13:00 offers only the mechanic not busy 10–12 in his calendar
        vs.advance(hours=0.02)
        frame = open_app_frame(page, base + f"&user={HEAD}", ready="body[data-b24app-loaded]")
        frame.click(row)
        out["head_sees_engineer"] = frame.locator("[data-b24app=engineer-block]").count()
        frame.fill("[data-b24app=head-block] input[name=day]", day.isoformat())
        frame.fill("[data-b24app=head-block] input[name=from]", "11:00")
        frame.fill("[data-b24app=head-block] input[name=to]", "13:00")
        vs.advance(hours=0.02)
        frame.click("[data-b24app=find-mechanics]")
        frame.wait_for_selector("[data-b24app=mechanic-pick][data-loaded]")
        out["options"] = frame.evaluate("""() => Array.from(
            document.querySelectorAll('[data-b24app=mechanic-pick] option'))
            .map(o => [o.value, o.disabled, o.textContent])""")
        vs.advance(hours=0.02)
        frame.click("[data-b24app=assign]")
        frame.wait_for_selector("[data-b24app=head-msg][data-done]")
        out["mechanic_cell"] = frame.inner_text(row + " [data-b24app=mechanic]")
        out["after_head"] = frame.get_attribute(row, "data-status")
        page.screenshot(path=str(artifacts_dir / "desk-registry-head.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert out["engineer_sees_head"] == 0 and out["head_sees_engineer"] == 1      # a head may fill both
    assert out["after_engineer"] == "not_in_work"            # at the mechanic's stage, nobody assigned yet
    opts = {int(v): (disabled, text) for v, disabled, text in out["options"]}
    assert opts[MECH_B][0] is False and opts[MECH_A][0] is True and "занят по календарю" in opts[MECH_A][1]
    assert out["mechanic_cell"] == "Сергей Попов" and out["after_head"] == "at_mechanic"
    deal = vs.client.call("crm.deal.get", {"id": order["deal_id"]})
    from .test_service_desk import _ids

    ids = _ids(sd)
    assert deal[ids.deal_field("svc_engineer")] in (ENGINEER, str(ENGINEER))
    assert str(deal[ids.deal_field("svc_mechanic")]) == str(MECH_B)


@pytest.mark.browser
def test_an_unknown_caller_is_searched_or_created_with_the_machine_in_one_form(sd, artifacts_dir):
    vs = sd.vs
    portal, live = vs.portal, vs.live
    item = next(p for p in placements(portal, "LEFT_MENU") if p["handler"].endswith("/placements/dispatcher"))
    url = (f"{portal.url}/marketplace/app/{live.client_id}/?placement={item['id']}&user={DISPATCHER}"
           "&phone=%2B7%20903%20777-66-55")

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=DESKTOP)
        frame = open_app_frame(page, url, ready="body[data-b24app-loaded=none]")
        # the caller rang from another phone: found by the company's name, picked, its card shown
        frame.fill("[data-b24app=search-q]", "СтарТек")
        vs.advance(hours=0.02)
        frame.click("[data-b24app=search]")
        frame.wait_for_selector("[data-b24app=search-results][data-loaded]")
        out["hits"] = frame.inner_text("[data-b24app=search-results]")
        vs.advance(hours=0.02)
        frame.click("[data-b24app=search-hit] button")
        frame.wait_for_selector("body[data-b24app-loaded='+79165551234']")
        out["picked"] = frame.inner_text("[data-b24app=company-title]")
        # a new caller: the client and the machine in one form
        vs.advance(hours=0.02)
        frame.fill("[data-b24app=phone]", "+7 903 777-66-55")
        frame.click("[data-b24app=find]")
        frame.wait_for_selector("body[data-b24app-loaded=none]")
        form = "[data-b24app=new-client] "
        for name, value in (("company_title", "КФХ «Нива»"), ("inn", "4826012345"), ("name", "Иван"),
                            ("last_name", "Нивин"), ("model", "Беларус 3522"), ("serial", "SN-3522-9"),
                            ("purchase_date", "2025-03-01"), ("price", "9800000"), ("manufacturer", "МТЗ"),
                            ("warranty_end", "2027-03-01"), ("warranty_hours", "2000"), ("hours_used", "120.5")):
            frame.fill(form + f"[name={name}]", value)
        vs.advance(hours=0.02)
        frame.click("[data-b24app=create-client]")
        frame.wait_for_selector("body[data-b24app-loaded='+79037776655']")
        out["created"] = frame.inner_text("[data-b24app=company-title]")
        out["cp"] = frame.inner_text("[data-b24app=cp-unchecked]")
        out["machine"] = frame.inner_text("[data-b24app=equipment]")
        page.screenshot(path=str(artifacts_dir / "desk-new-client.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert "ООО «СтарТек-Агро»" in out["hits"] and out["picked"] == "ООО «СтарТек-Агро»"
    assert "Контрагент ещё не проверен" in out["cp"]
    assert out["created"] == "КФХ «Нива»" and "Беларус 3522" in out["machine"] and "SN-3522-9" in out["machine"]
    co = next(c for c in vs.portal.db.companies.rows.values() if c["TITLE"] == "КФХ «Нива»")
    assert any(m["VALUE"] == "+79037776655" for m in co["PHONE"])


@pytest.mark.browser
def test_the_machine_card_tab_shows_its_orders_and_reasons(sd, artifacts_dir):
    from .test_service_desk import _ids

    vs = sd.vs
    portal = vs.portal
    first = new_order(sd, "tractor", reason="Течь гидравлики")
    new_order(sd, "tractor", "maintenance", reason="ТО-500")
    eq = _ids(sd).smart_process("equipment")
    tab = next(p for p in placements(portal, f"CRM_DYNAMIC_{eq.entity_type_id}_DETAIL_TAB")
               if p["handler"].endswith("/placements/equipment-card"))
    url = (f"{portal.url}/crm/type/{eq.entity_type_id}/details/{sd.equipment['tractor']}/"
           f"?tab={tab['id']}&user={DISPATCHER}")

    def drive(browser):
        page = browser.new_page(viewport=DESKTOP)
        frame = open_app_frame(page, url, ready="body[data-b24app-loaded]")
        out = {"title": frame.inner_text("[data-b24app=machine-title]"),
               "orders": frame.evaluate("""() => Array.from(document.querySelectorAll('[data-b24app=machine-order]'))
                   .map(tr => tr.dataset.id)"""),
               "reasons": frame.inner_text("[data-b24app=reasons]"),
               "warranty": frame.inner_text("[data-b24app=warranty-text]")}
        page.screenshot(path=str(artifacts_dir / "desk-machine-card.png"), full_page=True)
        return out

    out = in_browser(drive)
    assert out["title"] == "Беларус 1221 · SN-1221-001" and str(first["deal_id"]) in out["orders"]
    assert len(out["orders"]) == 2 and "Течь гидравлики — 1" in out["reasons"] and "ТО-500 — 1" in out["reasons"]
    assert out["warranty"].endswith("осталось 749.5 ч")
