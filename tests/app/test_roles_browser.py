"""The roles and phone-link settings in headless Chromium, inside the sandbox portal page, as people use
them: the administrator finds a person by typing part of her name, makes her a dispatcher, gives a
department "field worker" (Enter in the search box picks a person, never saves), saves (a tampered row
first: the server's 400 words appear under the form), and the stored document is exactly what was picked
— ids found by this test from the sandbox's own users and departments, never read off the page; a reload
shows names; a removal is saved. The new dispatcher's own page has no roles or links section and her
session's PUT is refused in Russian naming the role. Her phone link shows in the administrator's list
with dates in the portal's language; "Revoke" on the page stops the link (401). LANG=en gives the same
sections in English.

Playwright runs in its own thread (tests/app/test_pages._in_thread); every wait is on something the page
renders after its fetch resolves."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import requests

from b24app import roles as app_roles
from b24app import session as page_sessions
from tests.browser import in_browser

RU_WHEN = re.compile(r"^(\d{1,2}) [а-я]{3,4}\.? (\d{4}), \d{2}:\d{2}$")
EN_WHEN = re.compile(r"^[A-Z][a-z]{2} (\d{1,2}), (\d{4}), \d{1,2}:\d{2} [AP]M$")


def _user_id(portal, name: str, last_name: str) -> int:
    """The sandbox's own record of a person, found by name (what the page shows), not by what it sent."""
    ids = [int(u["ID"]) for u in portal.db.users.rows.values() if (u["NAME"], u["LAST_NAME"]) == (name, last_name)]
    assert len(ids) == 1, ids
    return ids[0]


def _department_id(portal, name: str) -> int:
    ids = [int(d["ID"]) for d in portal.db.departments.rows.values() if d["NAME"] == name]
    assert len(ids) == 1, ids
    return ids[0]


@pytest.mark.browser
def test_admin_assigns_roles_by_name_and_revokes_a_phone_link(live_app, portal, artifacts_dir, monkeypatch):
    monkeypatch.setenv("B24APP_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    assert live_app.install(portal)["progress"]["state"] == "done"
    dep = portal.db.departments.insert({"NAME": "Выездная служба", "SORT": 600, "PARENT": 1, "UF_HEAD": 1})
    portal.db.add_user("Ольга", "Смирнова", "olga@example.ru", position="Диспетчер")
    portal.db.add_user("Пётр", "Монтажников", "petr@example.ru", department=dep, position="Монтажник")
    olga, field_dep = _user_id(portal, "Ольга", "Смирнова"), _department_id(portal, "Выездная служба")
    app_url = f"{portal.url}/marketplace/app/{live_app.client_id}/"
    kv = live_app.store.kv
    R = "[data-b24app=settings-roles]"

    def drive(b):
        from playwright.sync_api import expect

        out = {}
        page = b.new_page(viewport={"width": 1300, "height": 1100})
        page.set_default_timeout(20000)

        def open_app(query=""):
            page.goto(app_url + query)
            return page.wait_for_selector("iframe#app-frame", timeout=15000).content_frame()

        # the administrator (user 1): nothing assigned yet
        frame = open_app()
        frame.wait_for_selector(f"{R} [data-b24app=roles-empty]:not([hidden])")
        out["help"] = frame.inner_text(f"{R} [data-b24app=role-help]")
        out["note"] = frame.inner_text(f"{R} [data-b24app=roles-note]")
        # search as you type: part of the surname
        frame.locator(f"{R} [name=user_q]").press_sequentially("Смир", delay=40)
        hit = frame.wait_for_selector(f'{R} [data-b24app=user-results] button:has-text("Ольга Смирнова")')
        out["hit"] = hit.inner_text()
        hit.click()
        person = frame.locator(f'{R} [data-role-row][data-kind=user]:has-text("Ольга Смирнова")')
        person.locator("input[value=dispatcher]").check()
        # Enter in the search box picks the one person found and does not submit the form; he gets
        # no role ticked, so saving drops his row
        frame.locator(f"{R} [name=user_q]").press_sequentially("Монтажн", delay=40)
        frame.wait_for_selector(f'{R} [data-b24app=user-results][data-q="Монтажн"] button:has-text("Пётр")')
        frame.press(f"{R} [name=user_q]", "Enter")
        expect(frame.locator(f'{R} [data-role-row][data-kind=user]:has-text("Пётр Монтажников")')).to_have_count(1)
        out["after_enter"] = (kv.get(portal.member_id, "roles"), frame.inner_text(f"{R} [data-b24app=msg-roles]"))
        frame.select_option(f"{R} [name=department]", label="Выездная служба")
        frame.click(f"{R} [data-b24app=add-department]")
        unit = frame.locator(f'{R} [data-role-row][data-kind=department]:has-text("Выездная служба")')
        unit.locator("input[value=field_worker]").check()
        # a tampered row (the pickers only give real ids): the server's 400 words under the form, nothing stored
        row_id = "([s, v]) => { const n = document.querySelector(s); const old = n.getAttribute('data-id'); " \
                 "n.setAttribute('data-id', v); return old; }"
        picked = frame.evaluate(row_id, [f"{R} [data-role-row][data-kind=user]", "x1"])
        frame.click(f"{R} button[type=submit]")
        msg = frame.locator(f"{R} [data-b24app=msg-roles]")
        expect(msg).to_contain_text("— не id сотрудника")
        out["bad"] = msg.inner_text()
        out["after_bad"] = kv.get(portal.member_id, "roles")
        frame.evaluate(row_id, [f"{R} [data-role-row][data-kind=user]", picked])
        frame.click(f"{R} button[type=submit]")
        expect(frame.locator(f"{R} [data-b24app=msg-roles]")).to_contain_text("Сохранено")
        out["saved"] = kv.get(portal.member_id, "roles")
        page.screenshot(path=str(artifacts_dir / "roles-saved.png"), full_page=True)

        # reload: names, not ids, with the roles ticked
        frame = open_app()
        frame.wait_for_selector(f'{R} [data-role-row][data-kind=department]:has-text("Выездная служба")')
        out["rows"] = frame.inner_text(f"{R} [data-b24app=roles-rows]")
        out["ticked"] = frame.eval_on_selector_all(
            f"{R} [data-role-row]",
            "rows => rows.map(r => [r.querySelector('[data-b24app=role-name]').textContent, "
            "Array.from(r.querySelectorAll('[name=role]:checked')).map(c => c.value)])")
        # remove the department, save
        frame.locator(f'{R} [data-role-row][data-kind=department]:has-text("Выездная служба") '
                      "[data-b24app=remove-role-row]").click()
        frame.click(f"{R} button[type=submit]")
        expect(frame.locator(f"{R} [data-b24app=msg-roles]")).to_contain_text("Сохранено")
        expect(frame.locator(f"{R} [data-role-row]")).to_have_count(1)
        out["after_remove"] = kv.get(portal.member_id, "roles")

        # the new dispatcher opens the app: roles apply now; no settings of any kind on her page
        frame = open_app(f"?user={olga}")
        frame.wait_for_selector("[data-b24app=hub] [data-page=orders_map]")
        out["olga_sections"] = len(frame.query_selector_all(
            "[data-b24app=settings], [data-b24app=settings-roles], [data-b24app=phone-links]"))
        sid = frame.evaluate("JSON.parse(document.getElementById('b24app-config').textContent).session")
        hdr = {page_sessions.HEADER: sid}
        r = requests.put(live_app.url + "/api/access/roles", headers=hdr, timeout=30,
                         json={"users": {str(olga): ["admin"]}, "departments": {}})
        out["olga_put"] = (r.status_code, r.json())
        r = requests.post(live_app.url + "/api/visits/phone-link", headers=hdr, json={"label": "Телефон Ольги"},
                          timeout=30)
        assert r.status_code == 200, r.text
        out["link"] = link = r.json()["url"]
        out["link_first_open"] = requests.get(link, timeout=30).status_code

        # the administrator's list: her link, dates in Russian; "Revoke" on the page
        frame = open_app()
        row = frame.locator('[data-b24app=links-table] tr[data-state=active]:has-text("Ольга Смирнова")')
        expect(row).to_have_count(1)
        out["link_row"] = {c: row.locator(f"[data-col={c}]").inner_text()
                           for c in ("person", "label", "created", "last_used", "state")}
        page.screenshot(path=str(artifacts_dir / "phone-links-admin.png"), full_page=True)
        page.once("dialog", lambda d: d.accept())
        row.locator("[data-b24app=revoke-link]").click()
        expect(frame.locator("[data-b24app=msg-links]")).to_have_text("Ссылка отозвана.")
        revoked = frame.locator('[data-b24app=links-table] tr[data-state=revoked]:has-text("Ольга Смирнова")')
        expect(revoked.locator("[data-col=state]")).to_have_text("отозвана")
        out["revoke_buttons"] = revoked.locator("[data-b24app=revoke-link]").count()
        out["link_after"] = requests.get(link, timeout=30).status_code
        page.screenshot(path=str(artifacts_dir / "phone-links-revoked.png"), full_page=True)

        # LANG=en: the same sections in English
        portal.installs[live_app.client_id].lang = "en"
        frame = open_app()
        frame.wait_for_selector(f'{R} [data-role-row][data-kind=user]:has-text("Ольга Смирнова")')
        frame.wait_for_selector('[data-b24app=links-table] tr[data-state=revoked]')
        out["en_roles"] = frame.inner_text(R)
        out["en_links"] = frame.inner_text("[data-b24app=phone-links]")
        out["en_created"] = frame.inner_text("[data-b24app=links-table] tr[data-state=revoked] [data-col=created]")
        page.screenshot(path=str(artifacts_dir / "roles-admin-en.png"), full_page=True)
        return out

    out = in_browser(drive)
    today = datetime.now(timezone.utc)

    # the person was found by part of her name; the roles explained from PERMISSIONS; the note is shown
    assert "Ольга Смирнова" in out["hit"] and "Диспетчер" in out["hit"]
    assert "диспетчер — назначать, переназначать и переносить заявки" in out["help"]
    assert "выездной сотрудник — свои визиты" in out["help"] and "со следующего открытия" in out["note"]
    assert out["after_enter"] == (None, "")
    # the tampered save: refused in the server's words, nothing written
    assert "users: 'x1' — не id сотрудника" in out["bad"] and out["after_bad"] is None
    # stored = picked, ids resolved independently from the sandbox
    assert out["saved"] == {"users": {str(olga): [app_roles.DISPATCHER]},
                            "departments": {str(field_dep): [app_roles.FIELD_WORKER]}}
    assert "Ольга Смирнова" in out["rows"] and "Выездная служба" in out["rows"]
    assert str(olga) not in out["rows"].split() and "#" not in out["rows"]
    assert out["ticked"] == [["Ольга Смирнова", ["dispatcher"]], ["Выездная служба", ["field_worker"]]]
    assert out["after_remove"] == {"users": {str(olga): [app_roles.DISPATCHER]}, "departments": {}}
    # a dispatcher is not an administrator
    assert out["olga_sections"] == 0
    assert out["olga_put"][0] == 403
    assert out["olga_put"][1]["error_description"] == "Недостаточно прав в приложении: нужна роль администратор."
    assert kv.get(portal.member_id, "roles") == out["after_remove"]
    # her link in the administrator's list, revoked from the page
    row = out["link_row"]
    assert (row["person"], row["label"], row["state"]) == ("Ольга Смирнова", "Телефон Ольги", "действует")
    for col in ("created", "last_used"):
        m = RU_WHEN.match(row[col])
        assert m and (int(m.group(1)), int(m.group(2))) == (today.day, today.year), row
    assert out["link_first_open"] == 200 and out["revoke_buttons"] == 0 and out["link_after"] == 401
    # English
    assert "App roles" in out["en_roles"] and "dispatcher" in out["en_roles"] and "field worker" in out["en_roles"]
    assert "Роли" not in out["en_roles"] and "Phone links" in out["en_links"] and "revoked" in out["en_links"]
    m = EN_WHEN.match(out["en_created"])
    assert m and (int(m.group(1)), int(m.group(2))) == (today.day, today.year), out["en_created"]
