"""batch over the domain methods: create a deal and read it back through a $result reference."""
from __future__ import annotations

import requests

CID, SECRET = "local.crm000.11112222", "s3cr3t"


def test_batch_creates_and_reads_a_deal(cloud, portal):
    cloud.register_app(CID, SECRET, handler_url="http://127.0.0.1:9/app", install_url="http://127.0.0.1:9/i",
                       scope=["crm"])
    portal.install_app(CID, mode="frame")
    portal.finish_install(CID)
    token = portal.issue_tokens(CID).access.token
    cmd = {"add": "crm.deal.add?fields[TITLE]=Batch%20deal&fields[OPPORTUNITY]=1500",
           "get": "crm.deal.get?id=$result[add]",
           "list": "crm.deal.list?filter[ID]=$result[add]&select[]=ID&select[]=TITLE"}
    r = requests.post(f"{portal.url}/rest/batch", json={"auth": token, "cmd": cmd, "halt": 1})
    res = r.json()["result"]
    assert res["result_error"] == [], res["result_error"]
    assert res["result"]["get"]["TITLE"] == "Batch deal"
    assert res["result"]["get"]["ID"] == str(res["result"]["add"])
    assert [d["TITLE"] for d in res["result"]["list"]] == ["Batch deal"]
    assert res["result_total"]["list"] == 1
