"""The worker's whole day on a phone (Chromium, 390×844): opened from his Bitrix24 task (TASK_VIEW_TAB in the
sandbox's task card), "on my way" (the manager told: the client has no chat), "started" tapped with no network
— queued on the phone, shown as waiting, nothing reaching the portal — then sent once the network is back,
exactly once (one request answered, one ledger row, one tasks.task.start), the deal's stage and the task's
time tracking checked in the sandbox, a photo from the camera input stored on the deal as a file with its
bytes, "finished" (stage, elapsed time, task completed, minutes). Then the same day from his phone link.
The phone's clock is the portal's (Playwright's clock), so the minutes are the test's own."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from b24sandbox.page import placements
from field.ledger import FieldLedger
from tests.browser import PHONE, in_browser
from tests.pagesession import phone_link

from .conftest import JPEG, MANAGER, WORKER


@pytest.fixture
def store_url(sqlite_url):
    """One backend is enough for the page (the ledger's two are tests/field/test_field_api.py)."""
    return sqlite_url


def _status(frame, key: str) -> tuple[str, str]:
    node = frame.locator(f"[data-b24app=item][data-key='{key}'] [data-b24app=status]")
    return node.get_attribute("data-status"), node.get_attribute("data-pending")


@pytest.mark.browser
def test_a_workers_whole_day_from_his_task(fieldday, artifacts_dir, monkeypatch):
    f = fieldday
    deal, task = f.jobs[0]
    key = f"job:{deal}"
    tab = next(p for p in placements(f.portal, "TASK_VIEW_TAB") if p["client_id"] == f.live.client_id)
    url = f"{f.portal.url}/company/personal/user/{WORKER}/tasks/task/view/{task}/?user={WORKER}&tab={tab['id']}"
    link = phone_link(f.live, f.session())
    seen: dict = {"posts": [], "answers": []}
    checks: dict = {}

    def wait_status(frame, want: str, pending: str):
        frame.wait_for_selector(f"[data-b24app=item][data-key='{key}'] [data-b24app=status]"
                                f"[data-status='{want}'][data-pending='{pending}']", timeout=20000)

    def drive(browser):
        ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        ctx.clock.set_fixed_time(datetime.fromtimestamp(f.cloud.clock.now()))
        page = ctx.new_page()
        page.on("request", lambda r: seen["posts"].append(json.loads(r.post_data or "{}"))
                if r.url.endswith("/api/field/actions") else None)
        page.on("response", lambda r: seen["answers"].append((r.status, r.request.post_data))
                if r.url.endswith("/api/field/actions") else None)
        page.goto(url)
        frame = page.wait_for_selector("iframe#app-frame", timeout=20000).content_frame()
        frame.wait_for_selector(f"[data-b24app=item][data-key='{key}'].focus", timeout=30000)
        checks["first"] = frame.locator("[data-b24app=item]").first.get_attribute("data-key")
        checks["links"] = frame.eval_on_selector_all(f"[data-key='{key}'] .nav a", "as => as.map(a => a.href)")
        page.screenshot(path=str(artifacts_dir / "field-phone-1-from-task.png"))

        frame.click(f"[data-key='{key}'] button[data-action=on_way]")
        wait_status(frame, "on_way", "0")
        checks["notified"] = [n["MESSAGE"] for n in f.portal.db.notifications.rows.values() if n["USER_ID"] == MANAGER]

        f.advance(30)                                           # the drive
        ctx.clock.set_fixed_time(datetime.fromtimestamp(f.cloud.clock.now()))
        ctx.set_offline(True)
        frame.click(f"[data-key='{key}'] button[data-action=started]")
        wait_status(frame, "started", "1")                      # shown as started, waiting for the network
        frame.wait_for_selector("[data-b24app=queue]:not([hidden])", timeout=10000)
        checks["queue_text"] = frame.inner_text("[data-b24app=queue]")
        checks["net_text"] = frame.inner_text("[data-b24app=net]")
        checks["stage_offline"] = f.stage_key(deal)
        checks["task_offline"] = f.task(task)["STATUS"]
        page.screenshot(path=str(artifacts_dir / "field-phone-2-offline-queued.png"))
        ctx.set_offline(False)                                  # the network returns: the queue is sent
        wait_status(frame, "started", "0")
        frame.wait_for_selector("[data-b24app=queue][hidden]", state="attached", timeout=10000)

        frame.set_input_files(f"[data-key='{key}'] input[data-action=photo]",
                              files=[{"name": "zamer.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
        frame.wait_for_selector(f"[data-key='{key}'] [data-b24app=facts]", timeout=20000)
        frame.wait_for_function(f"() => (document.querySelector(\"[data-key='{key}'] [data-b24app=facts]\")"
                                ".textContent || '').includes(': 1')", timeout=20000)

        f.advance(45)                                           # on site
        ctx.clock.set_fixed_time(datetime.fromtimestamp(f.cloud.clock.now()))
        frame.click(f"[data-key='{key}'] button[data-action=finished]")
        wait_status(frame, "finished", "0")
        checks["facts"] = frame.inner_text(f"[data-key='{key}'] [data-b24app=facts]")
        page.screenshot(path=str(artifacts_dir / "field-phone-3-finished.png"))
        page.reload()                                           # nothing left to send again
        frame = page.wait_for_selector("iframe#app-frame", timeout=20000).content_frame()
        frame.wait_for_selector(f"[data-key='{key}'] [data-b24app=status][data-status=finished]", timeout=30000)
        checks["queue_after_reload"] = frame.evaluate(f"localStorage.getItem('b24app.field.queue.{WORKER}')")

        phone = ctx.new_page()                                  # the same day from his phone link
        phone.goto(link.replace("/m/", "/m/", 1) + "/day")
        phone.wait_for_selector(f"[data-key='{key}'] [data-b24app=status][data-status=finished]", timeout=30000)
        checks["phone_items"] = phone.eval_on_selector_all("[data-b24app=item]", "es => es.map(e => e.dataset.key)")
        checks["phone_width"] = phone.evaluate("document.documentElement.scrollWidth")
        phone.screenshot(path=str(artifacts_dir / "field-phone-4-phone-link.png"), full_page=True)
        ctx.close()
        return checks

    out = in_browser(drive)
    assert out["first"] == key                                   # the task's job first, marked
    assert any(u.startswith("https://yandex.ru/maps/") for u in out["links"])
    assert any(u.startswith("yandexnavi://build_route_on_map") for u in out["links"])
    assert any(u.startswith("https://www.google.com/maps/dir/") for u in out["links"])
    assert len(out["notified"]) == 1
    # offline: queued and shown, nothing reached the portal
    assert out["stage_offline"] == "scheduled" and out["task_offline"] == 2
    assert "1" in out["queue_text"] and "сети" in out["net_text"]
    # sent later exactly once
    started = [p for p in seen["posts"] if p.get("action") == "started"]
    answered = [s for s, body in seen["answers"] if json.loads(body or "{}").get("action") == "started"]
    assert len({p["id"] for p in started}) == 1 and answered == [200], (started, answered)
    rows = FieldLedger(f.services.store.engine, f.member_id).actions(worker_id=WORKER, item_id=deal)
    assert sorted(r["action"] for r in rows) == ["finished", "on_way", "photo", "started"]
    assert f.calls("tasks.task.start") == 1 and f.calls("task.elapseditem.add") == 1
    # the portal: stage, task time tracking, the photo's bytes
    assert f.stage_key(deal) == "job_done"
    t = f.task(task)
    assert t["STATUS"] == 5 and t["DATE_START"] and t["ALLOW_TIME_TRACKING"] == "Y"
    assert t["TIME_SPENT_IN_LOGS"] == 45 * 60
    assert [(e["USER_ID"], e["SECONDS"]) for e in f.elapsed(task)] == [(WORKER, 45 * 60)]
    assert [(x["name"], x["content"]) for x in f.files(deal)] == [("zamer.jpg", JPEG)]
    assert "30" in out["facts"] and "45" in out["facts"]         # travel 30 min, on site 45 min
    assert out["queue_after_reload"] in (None, "[]")
    assert key in out["phone_items"] and out["phone_width"] <= PHONE["width"]
