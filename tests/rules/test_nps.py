"""NPS after a won deal (seed 004, «Контроль качества»): a copy of the deal in the NPS pipeline, the survey link
given to the manager to send, the public form (no login, one answer per link) filled with all fives (the review
invitation) and with a 4 (negative: the NPS deal marked, the head told with the answers)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.rules.conftest import PASSED

MSK = ZoneInfo("Europe/Moscow")
START = datetime(2027, 3, 1, 10, 0, tzinfo=MSK)
FIVES = {"manager": "5", "manufacturing": "5", "delivery": "5", "installation": "5", "comment": "Всё отлично"}


def _win(f, title: str) -> tuple[int, str]:
    """A deal closed with its documents and payment; returns (its NPS copy, the form's path)."""
    deal = f.add_deal("INSTALL", TITLE=title, UF_CRM_CLOSING_DOCS="акт.pdf", UF_CRM_PAID_FULL="Y", **PASSED)
    f.run_events()
    f.move(deal, "WON")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("WON")
    copies = f.client.call("crm.deal.list", {"filter": {"CATEGORY_ID": f.nps_category, "TITLE": title},
                                             "select": ["ID", "STAGE_ID", "ASSIGNED_BY_ID"]})
    [copy] = copies
    assert copy["STAGE_ID"] == f"C{f.nps_category}:NEW" and int(copy["ASSIGNED_BY_ID"]) == f.manager
    [note] = [n for n in f.notes(f.manager) if "/f/nps/" in n["MESSAGE"] and title in n["MESSAGE"]]
    path = re.search(r"(/f/nps/[A-Za-z0-9_\-]+)", note["MESSAGE"]).group(1)
    return int(copy["ID"]), path


@pytest.mark.parametrize("clock_start", [START])
def test_all_fives_invite_a_public_review_and_the_link_takes_one_answer(furniture):
    f = furniture
    f.live.store.kv.set(f.member_id, "rules.nps", {"review_url": "https://yandex.ru/maps/org/otilos/reviews"})
    copy, path = _win(f, "Витрина для бутика")
    _replay_won = len(f.notes())
    page = requests.get(f.live.url + path, timeout=30)      # no Bitrix24 login: the link is the key
    assert page.status_code == 200 and 'data-state="form"' in page.text and "Работа менеджера" in page.text
    r = requests.post(f.live.url + path, data=FIVES, timeout=30)
    assert r.status_code == 200 and 'data-state="positive"' in r.text
    assert "https://yandex.ru/maps/org/otilos/reviews" in r.text
    d = f.deal(copy)
    assert d["STAGE_ID"] == f"C{f.nps_category}:WON" and "Работа менеджера: 5" in d["COMMENTS"]
    again = requests.post(f.live.url + path, data={**FIVES, "installation": "1"}, timeout=30)
    assert again.status_code == 409 and 'data-state="used"' in again.text
    assert f.deal(copy)["STAGE_ID"] == f"C{f.nps_category}:WON"                    # the first answer stands
    assert requests.get(f.live.url + path, timeout=30).status_code == 409
    assert len(f.notes()) == _replay_won                      # no head was told of a positive answer
    assert requests.get(f.live.url + "/f/nps/" + "x" * 32, timeout=30).status_code == 404


@pytest.mark.parametrize("clock_start", [START])
def test_a_four_marks_it_negative_and_the_head_gets_the_answers(furniture):
    f = furniture
    copy, path = _win(f, "Стеллажи для склада")
    bad = requests.post(f.live.url + path, data={**FIVES, "delivery": "7"}, timeout=30)
    assert bad.status_code == 400 and "от 1 до 5" in bad.text and 'value="7"' not in bad.text
    assert f.deal(copy)["STAGE_ID"] == f"C{f.nps_category}:NEW"                     # nothing taken
    r = requests.post(f.live.url + path, data={**FIVES, "installation": "4", "comment": "Монтажники опоздали"},
                      timeout=30)
    assert r.status_code == 200 and 'data-state="negative"' in r.text and "yandex" not in r.text
    d = f.deal(copy)
    assert d["STAGE_ID"] == f"C{f.nps_category}:LOSE" and "Качество монтажа: 4" in d["COMMENTS"]
    [note] = f.notes(f.head)
    assert "Отрицательный отзыв NPS" in note["MESSAGE"] and "Качество монтажа: 4" in note["MESSAGE"]
    assert "Монтажники опоздали" in note["MESSAGE"]


@pytest.mark.parametrize("clock_start", [START])
def test_the_same_won_event_twice_makes_one_copy_and_one_link(furniture):
    f = furniture
    copy, _path = _win(f, "Прилавок")
    won = int(f.client.call("crm.deal.list", {"filter": {"CATEGORY_ID": f.category, "TITLE": "Прилавок"},
                                              "select": ["ID"]})[0]["ID"])
    f.breathe()
    for i in range(2):
        f.live.store.inbox.put(f.member_id, "event", "ONCRMDEALUPDATE",
                               {"event": "ONCRMDEALUPDATE", "data": {"FIELDS": {"ID": won}}}, f"replay:{won}:{i}")
    f.run_events()
    assert len(f.client.call("crm.deal.list", {"filter": {"CATEGORY_ID": f.nps_category}, "select": ["ID"]})) == 1
    assert len([n for n in f.notes(f.manager) if "/f/nps/" in n["MESSAGE"]]) == 1
