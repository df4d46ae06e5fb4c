"""The engineers' list (LEFT_MENU "Engineers' calculations") in headless Chromium inside the sandbox
portal, as an engineer of the field department opens it: the department's request waits in "my group"
with its waiting time, the shared queue's too; another engineer's personal request is not there. He
takes one: it leaves the group's column and shows in "mine", in work. Screenshots in test-artifacts/."""
from __future__ import annotations

import pytest

from b24sandbox.page import placements
from tests.browser import DESKTOP, in_browser, open_app_frame

from .conftest import ENGINEER, MANAGER, OUTSIDER
from .test_flow_http import _ok


@pytest.mark.browser
def test_engineer_sees_his_groups_requests_and_takes_one(flow, artifacts_dir):
    f = flow
    made = {}
    for key, title, target in (("dept", "Окна, отдел", {"kind": "department", "id": f.dept}),
                               ("queue", "Окна, очередь", {"kind": "queue"}),
                               ("other", "Окна, лично Олегу", {"kind": "user", "id": OUTSIDER})):
        made[key] = _ok(f.call("POST", "/api/calc/request", MANAGER,
                               {"deal_id": f.new_deal(title), "target": target}), 201)["id"]
    item = next(p for p in placements(f.portal, "LEFT_MENU") if p["handler"].endswith("/placements/engineers"))
    url = f"{f.portal.url}/marketplace/app/{f.vs.live.client_id}/?placement={item['id']}&user={ENGINEER}"

    def cards(frame):
        return frame.evaluate("""() => Array.from(document.querySelectorAll('[data-b24app=column]')).map(
            col => [col.dataset.stage,
                    Array.from(col.querySelectorAll('[data-b24app=card-title]')).map(t => t.textContent)])""")

    def drive(browser):
        out = {}
        page = browser.new_page(viewport=DESKTOP)
        frame = open_app_frame(page, url, "body[data-b24app-loaded='group:2']")
        out["group"] = cards(frame)
        out["waiting"] = frame.inner_text("[data-b24app=card] [data-b24app=waiting]")
        page.screenshot(path=str(artifacts_dir / "calc-engineers-group.png"), full_page=True)
        f.vs.advance(hours=0.02)
        frame.click(f"[data-b24app=card][data-id='{made['dept']}'] [data-b24app=take]")
        frame.wait_for_selector("body[data-b24app-loaded='mine:1']", timeout=20000)
        out["mine"] = cards(frame)
        out["open"] = frame.is_visible(f"[data-b24app=card][data-id='{made['dept']}'] [data-b24app=open]")
        page.screenshot(path=str(artifacts_dir / "calc-engineers-mine.png"), full_page=True)
        f.vs.advance(hours=0.02)
        frame.click("[data-b24app=scope-group]")
        frame.wait_for_selector("body[data-b24app-loaded='group:1']", timeout=20000)
        out["group_after"] = cards(frame)
        return out

    out = in_browser(drive)
    titles = {t: n for n, t in ((made["dept"], "Окна, отдел"), (made["queue"], "Окна, очередь"))}
    assert out["group"] == [["new", [f"{t} #{d}" for t, d in ((k, f.item("calculation", v)["parentId2"])
                                                             for k, v in titles.items())]],
                            ["in_work", []], ["info_requested", []]]
    assert out["waiting"].startswith("ждёт, ч: ")
    assert out["mine"][1][0] == "in_work" and out["mine"][1][1][0].startswith("Окна, отдел") and out["open"]
    assert out["group_after"][0][1][0].startswith("Окна, очередь") and len(out["group_after"][0][1]) == 1
    assert f.stage("calculation", made["dept"]) == "in_work"
    assert f.item("calculation", made["dept"])["assignedById"] == ENGINEER
    for name in ("calc-engineers-group.png", "calc-engineers-mine.png"):
        assert (artifacts_dir / name).stat().st_size > 10_000
