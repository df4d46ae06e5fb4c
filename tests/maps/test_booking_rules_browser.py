"""The orders map under the booking rules, in headless Chromium inside the sandbox portal page (issue 14):
a worker the candidate list marks busy is assigned only after the dispatcher confirms the override the
server asks for (the confirm shows the server's Russian reason; the deal's timeline keeps the override);
the "Назначено…" line survives the reload that follows; the map has a legend of its marker colours; job
times are in the portal's locale, not ISO. Screenshot: test-artifacts/map-legend-override.png."""
from __future__ import annotations

import re

import pytest

from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_dispatch_browser import _api, _frame, _open_map, _popup, _shot, portal  # noqa: F401
from tests.browser import in_browser

WORKER = "UF_CRM_B24APP_WORKER"


def _busy_pick(api):
    """An unassigned job with an agreed time and a worker the candidate list calls busy at that time."""
    doc = api("GET", "/api/maps/jobs")
    rows = [dict(zip(doc["columns"], r)) for r in doc["rows"]]
    for r in rows:
        if r["assigned"] or not r["time"]:
            continue
        c = api("GET", f"/api/maps/candidates/{r['id']}")
        busy = [x for x in c["candidates"] if not x["fits"] and "нет свободного окна" in x["reason"]]
        if busy:
            return r, busy[0]
    raise AssertionError("the demo has no unassigned job with a busy candidate")


@pytest.mark.browser
def test_busy_worker_override_confirmed_status_kept_legend_and_locale_dates(live_app, portal, artifacts_dir,
                                                                           monkeypatch):
    url = _open_map(live_app, portal, monkeypatch)
    api = _api(live_app, portal)
    job, cand = _busy_pick(api)
    deal, worker = job["id"], cand["worker_id"]

    def drive(b):
        page = b.new_page(viewport={"width": 1400, "height": 900})
        dialogs = []

        def on_dialog(d):
            dialogs.append((d.type, d.message))
            d.accept()
        page.on("dialog", on_dialog)
        frame = _frame(page, url)
        out = {"legend": frame.eval_on_selector_all("[data-b24app=legend] .item",
                                                    "els => els.map(e => [e.dataset.stage, e.textContent])")}
        pop = _popup(frame, deal)
        out["popup"] = frame.inner_text(pop)
        frame.click(f"{pop} [data-b24app=pick]")
        sel = f"#cands li[data-worker-id='{worker}'] [data-b24app=assign-anyway]"
        frame.wait_for_selector(sel, timeout=20000)
        version = frame.evaluate("document.body.dataset.version")
        frame.click(sel)
        frame.wait_for_selector(f"#side[data-assigned='{worker}']", timeout=30000)
        frame.wait_for_function("(v) => document.body.dataset.version !== v", arg=version, timeout=20000)
        frame.wait_for_function("() => !window.b24map.loading", timeout=20000)
        out["status"] = frame.inner_text("#status")
        out["dialogs"] = dialogs
        frame.evaluate("() => window.b24map.map.closePopup()")
        _shot(page, artifacts_dir / "map-legend-override.png")
        return out

    out = in_browser(drive)
    assert [d[0] for d in out["dialogs"]] == ["confirm"]
    assert "занят" in out["dialogs"][0][1] and "записано в сделке" in out["dialogs"][0][1]
    assert out["status"].startswith("Назначено поверх занятости: " + cand["name"]), out["status"]
    assert int(portal.db.deals.get(deal)[WORKER]) == worker
    notes = [c["COMMENT"] for c in portal.db.comments.rows.values()
             if c["ENTITY_TYPE"] == "deal" and int(c["ENTITY_ID"]) == deal]
    assert len(notes) == 1 and "Назначено поверх занятости" in notes[0]
    stages = [s for s, _ in out["legend"]]
    assert "unassigned" in stages and len(stages) >= 3 and len(set(stages)) == len(stages)
    assert any("Не назначен" in t for _, t in out["legend"])
    assert not re.search(r"\d{4}-\d{2}-\d{2}", out["popup"]), out["popup"]        # no ISO dates shown
    assert re.search(r"\d{1,2} [а-я]{3}\.? 2026", out["popup"]), out["popup"]   # "1 янв. 2026 г., 09:00"
