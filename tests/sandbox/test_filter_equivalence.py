"""The compiled list path (filter_compiler: compiled conditions, memoised conversions, ID-index bisect, page
rendering resolved once) answers exactly like the plain reference evaluator (filters.reference_filter /
reference_select_rows + per-row rendering): same rows, same order, same next/total, same errors — before
and after writes that change, add and delete rows."""
from __future__ import annotations

import json
from urllib.parse import quote
import random

import pytest

from b24sandbox.crmschema import Schema, item_value, legacy_value
from b24sandbox.db import COMPANY, CONTACT, DEAL, Table
from b24sandbox.demo import deal_row
from b24sandbox.filter_compiler import FieldGetter, compile_filter, select_table
from b24sandbox.filters import page_of, parse_order, reference_filter, reference_select_rows
from b24sandbox.methods.crm_item import _resolver
from b24sandbox.methods.crm_legacy import legacy_order_resolver, legacy_resolver
from b24sandbox.registry import B24Fault

from .methods_helpers import ok, rest

N = 420
UFS = [("UF_CRM_NOTE", "string", False), ("UF_CRM_SCORE", "integer", False), ("UF_CRM_VISIT", "date", False),
       ("UF_CRM_FLAG", "boolean", False), ("UF_CRM_TAGS", "enumeration", True), ("UF_CRM_AT", "datetime", False)]
TITLES = ["Монтаж окна", "монтаж ОКНА", "Замер", "Сервис 50%", "", None, "a_b", "Окна и двери", "100", "2026-03-05"]


def _seed(db, n: int = N, seed: int = 11) -> None:
    rng = random.Random(seed)
    for name, t, multiple in UFS:
        db.add_userfield("CRM_DEAL", name, t, multiple=multiple)
    with db.lock:
        for _ in range(n):
            iso = f"2026-{rng.choice([2, 3, 3, 4]):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00+03:00"
            cat = rng.choice([0, 0, 1, 2])
            row = deal_row(db, iso, rng.choice(TITLES) or "", category_id=0,
                           opportunity=rng.choice([0, 100, 1500.5, 99999]))
            if row["TITLE"] == "" and rng.random() < 0.5:
                row["TITLE"] = None
            row.update(DATE_CREATE=iso if rng.random() > 0.05 else None, DATE_MODIFY=iso, CATEGORY_ID=cat,
                       STAGE_ID=("" if cat == 0 else f"C{cat}:") + rng.choice(["NEW", "WON", "LOSE"]),
                       STAGE_SEMANTIC_ID=rng.choice(["P", "P", "S", "F"]), ASSIGNED_BY_ID=rng.randint(1, 4),
                       CONTACT_IDS=rng.sample([1, 2, 3, 4, 5], rng.randint(0, 2)), CLOSED=rng.choice(["Y", "N"]),
                       COMMENTS=rng.choice(["", "срочно", "Срочно!", None, "50%"]),
                       UF_CRM_NOTE=rng.choice(["", "ok", "OK", None, "12", "01.03.2026"]),
                       UF_CRM_SCORE=rng.choice([None, 0, 1, 5, 10, 42]),
                       UF_CRM_VISIT=rng.choice([None, "2026-03-01", "2026-03-15", "2026-04-02"]),
                       UF_CRM_FLAG=rng.choice([0, 1, None]), UF_CRM_TAGS=rng.sample([101, 102, 103], rng.randint(0, 2)),
                       ACTIVE=rng.choice([True, False, None]),            # like user rows' booleans
                       UF_CRM_AT=rng.choice([None, "2026-03-10T10:00:00+03:00", "2026-03-10T07:00:00+00:00"]))
            if rng.random() < 0.3:
                db.set_multifields(row, {"PHONE": [{"VALUE": rng.choice(["+7 900 123-45-67", "8 (495) 111-22-33"])}]})
            db.deals.insert(row)
        for rid in rng.sample(sorted(db.deals.rows), 25):          # id gaps for the bisect
            db.deals.delete(rid)


# --- predicates: random conditions, compiled vs reference, every row ------------------------------------
FIELDS = ["ID", "TITLE", "DATE_CREATE", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "OPPORTUNITY",
          "CONTACT_IDS", "CLOSED", "COMMENTS", "ASSIGNED_BY_ID", "ACTIVE", "MISSING"] + [u[0] for u in UFS]
OPS = ["", "=", "!", "!=", ">", ">=", "<", "<=", "@", "!@", "%", "!%", "=%", "%=", "!=%", "!%="]
VALUES = [0, 1, 2, "2", 5, 42, 100, "100", 1500.5, "abc", "", None, True, False, "Y", "N", "y", "P", "S",
          "C1:NEW", "NEW", "монтаж", "ОКНА", "%окна%", "Мон%", "a_b", "a\\_b", "_", "%", "50%", [], [0, 1],
          ["1", "2"], ["P", "S"], "1,2", "P,F", {"a": 1, "b": 2}, "2026-03-01", "2026-03-15T00:00:00+03:00",
          "01.03.2026", "15.03.2026 12:00:00", "2026-03-10T10:00:00+03:00", "2026-03-10", "12", "01.03.2026",
          "nan", " 5 ", "1e1", 101, [101, 103], "ok"]


def _random_filter(rng: random.Random) -> dict:
    filt = {}
    for _ in range(rng.randint(1, 3)):
        filt[rng.choice(OPS) + rng.choice(FIELDS)] = rng.choice(VALUES)
    if rng.random() < 0.25:
        filt[str(rng.randint(0, 3))] = {"logic": rng.choice(["OR", "AND", "or"]),
                                        **{rng.choice(OPS) + rng.choice(FIELDS): rng.choice(VALUES) for _ in range(2)}}
    return filt


def test_compiled_conditions_match_the_reference_on_every_row(portal):
    _seed(portal.db)
    rows = list(portal.db.deals.rows.values())

    def resolve(name):
        return None if name == "MISSING" else FieldGetter(name)

    rng = random.Random(5)
    checked = matched_some = 0
    for _ in range(600):
        filt = _random_filter(rng)
        fast, ref = compile_filter(filt, resolve), reference_filter(filt, resolve)
        got = [r["ID"] for r in rows if fast(r)]
        assert got == [r["ID"] for r in rows if ref(r)], filt
        checked += 1
        matched_some += 0 < len(got) < len(rows)
    assert checked == 600 and matched_some > 80          # the conditions discriminate, not all-or-nothing


def test_unknown_field_errors_are_raised_in_the_same_order(portal):
    schema = Schema(portal.db, DEAL)
    for filt in ({"TITLE": "x", "nope": 1, "other": 2}, {"0": {"logic": "OR", "bad": 1}, "title": "x"}):
        errors = []
        for fn in (compile_filter, reference_filter):
            with pytest.raises(B24Fault) as e:
                fn(filt, _resolver(schema, False, "filter"))
            errors.append((e.value.code, e.value.description))
        assert errors[0] == errors[1] and errors[0][0] == "INVALID_ARG_VALUE"


# --- paging over the table: ID bounds, orders, offsets, COUNT ------------------------------------------
BOUNDS = [{}, {">ID": 0}, {">ID": 90}, {">ID": "90"}, {">ID": 90.5}, {">=ID": 91}, {"<ID": 120},
          {"<=ID": "150", ">ID": 60}, {">ID": [120, 30]}, {">ID": "abc"}, {">ID": None}, {">ID": 10**6},
          {">ID": -5}, {">ID": True}, {"!>ID": 3}, {">ID": []}, {"<=TITLE": None},
          {">ID": [{"id": 5, "title": "x"}]}]
FILTERS = [{}, {"@CATEGORY_ID": [1, 2], "STAGE_SEMANTIC_ID": "P"}, {">=DATE_CREATE": "2026-03-01",
           "<DATE_CREATE": "2026-04-01T00:00:00+03:00"}, {"%TITLE": "окна"}, {"!STAGE_SEMANTIC_ID": "F"},
           {"logic": "OR", "CATEGORY_ID": 1, ">ID": 380}, {"0": {"logic": "OR", "UF_CRM_SCORE": 5, "UF_CRM_FLAG": "Y"}}]
ORDERS = [{}, {"ID": "ASC"}, {"ID": "DESC"}, {"TITLE": "ASC", "ID": "DESC"}, {"DATE_CREATE": "DESC"},
          {"UF_CRM_VISIT": "ASC"}, {"OPPORTUNITY": "desc"}]


def _both_pages(table, filt, order_param, offset, count):
    getter = lambda n: FieldGetter(n.upper())        # noqa: E731
    order = parse_order(order_param, getter)
    fast = select_table(table, compile_filter(filt, getter), order, offset, 50, count)
    ref = reference_select_rows(table.rows.values(), reference_filter(filt, getter), order, offset, 50, count)
    return fast, ref


def test_select_table_pages_match_the_reference(portal):
    _seed(portal.db, 220)
    table = portal.db.deals
    nonempty = 0
    for b, bound in enumerate(BOUNDS):
        for f, filt in enumerate(FILTERS):
            for order in (ORDERS[(b + f) % len(ORDERS)], ORDERS[(b * 3 + f + 1) % len(ORDERS)]):
                for offset, count in ((0, False), (50, False), (0, True), (100, True)):
                    (rows, total), (ref_rows, ref_total) = _both_pages(table, {**filt, **bound}, order, offset, count)
                    assert [r["ID"] for r in rows] == [r["ID"] for r in ref_rows], (bound, filt, order, offset)
                    assert total == ref_total
                    nonempty += bool(rows)
    assert nonempty > 300


def test_tables_with_unordered_ids_are_scanned_like_before():
    t = Table("x")
    for i in range(5):
        t.insert({"V": i})
    t.rows = {3: t.rows[3], 1: t.rows[1], 4: t.rows[4]}      # not ascending: the index refuses, scan is used
    assert t.id_index() is None
    getter = lambda n: FieldGetter(n)                         # noqa: E731
    rows, _ = select_table(t, compile_filter({">ID": 1}, getter), [], 0, 50, False)
    assert [r["ID"] for r in rows] == [3, 4]


# --- over HTTP: crm.item.list / crm.deal.list answers vs the reference, across writes -------------------
def _ref_item_list(db, params):
    etid = int(params["entityTypeId"])
    orig = str(params.get("useOriginalUfNames")).upper() in ("Y", "1", "TRUE")
    schema = Schema(db, etid)
    select = params.get("select")
    try:
        pred = reference_filter(params.get("filter"), _resolver(schema, orig, "filter"))
        order = parse_order(params.get("order") or {}, _resolver(schema, orig, "order"))
    except B24Fault as e:
        return 400, {"error": e.code, "error_description": e.description}
    offset, count = page_of(params.get("start"))
    rows, total = reference_select_rows(db.table_for(etid).rows.values(), pred, order, offset, 50, count)
    items = []
    for row in rows:
        names = schema.item_select(select, orig)
        out = {}
        for n in names:
            f = schema.fields.get(n)
            out[schema.item_name(n, orig)] = row.get(n) if f is None else item_value(
                f.type, row.get(n, [] if f.multiple else None))
        if "ENTITY_TYPE_ID" not in names and etid not in (DEAL, COMPANY, CONTACT):
            out["entityTypeId"] = etid
        items.append(out)
    body = {"result": {"items": items}, "total": 0}
    if count:
        body["total"] = total
        if offset + len(items) < total:
            body["next"] = offset + len(items)
    return 200, json.loads(json.dumps(body))


def _ref_deal_list(db, params):
    schema = Schema(db, DEAL)
    pred = reference_filter(params.get("filter"), legacy_resolver(schema))
    order = parse_order(params.get("order") or {}, legacy_order_resolver(schema))
    offset, count = page_of(params.get("start"))
    rows, total = reference_select_rows(db.deals.rows.values(), pred, order, offset, 50, count)
    names = schema.legacy_select(params.get("select") or [])
    out = [{n: legacy_value(n, schema.fields[n].type, r.get(n, [] if schema.fields[n].multiple else None))
            for n in names} for r in rows]
    body = {"result": out}
    if count:
        body["total"] = total
        if offset + len(out) < total:
            body["next"] = offset + len(out)
    return 200, json.loads(json.dumps(body))


ITEM_CASES = [
    {"filter": {">id": 0}, "order": {"id": "ASC"}, "start": -1},
    {"filter": {">id": 200, "@categoryId": [1, 2], "stageSemanticId": "P"}, "order": {"id": "ASC"}, "start": -1},
    {"filter": {">=createdTime": "2026-03-01T00:00:00+03:00", "<createdTime": "2026-04-01T00:00:00+03:00"}},
    {"filter": {">=createdTime": "2026-03-01", "<=createdTime": "31.03.2026 23:59:59"}, "start": 50},
    {"filter": {"%title": "ОКНА"}, "select": ["id", "title", "ufCrmNote"], "order": {"title": "DESC", "id": "ASC"}},
    {"filter": {"!stageSemanticId": "F", "<=opportunity": 1500.5, ">=opportunity": "100"}, "start": 100},
    {"filter": {"ufCrmScore": [5, 42], "!ufCrmFlag": "Y"}, "select": ["*"], "order": {"ufCrmVisit": "ASC"}},
    {"filter": {"UF_CRM_TAGS": 101, ">=UF_CRM_VISIT": "2026-03-15"}, "useOriginalUfNames": "Y",
     "select": ["id", "UF_CRM_TAGS", "UF_CRM_VISIT"]},
    {"filter": {"contactIds": 3}, "order": {"id": "DESC"}, "start": 0},
    {"filter": {"0": {"logic": "OR", "categoryId": 2, "=%title": "Мон%"}, ">id": "50"}, "start": -1},
    {"filter": {"noSuchField": 1}},
    {"filter": {"title": "x"}, "order": {"id": "SIDEWAYS"}},
    {"filter": {">id": 100}, "order": {"noSuchField": "ASC"}},
]
DEAL_CASES = [
    {"filter": {">ID": 0, "@CATEGORY_ID": [0, 1], "STAGE_SEMANTIC_ID": "P"}, "order": {"ID": "ASC"}, "start": -1},
    {"filter": {">ID": 0, "@CATEGORY_ID": [0, 1], "STAGE_SEMANTIC_ID": "P"}, "order": {"ID": "ASC"}, "start": -1,
     "select": ["ID", "TITLE", "UF_*"]},
    {"filter": {">=DATE_CREATE": "2026-03-01", "<DATE_CREATE": "2026-04-01", "!TITLE": ""}, "start": 50},
    {"filter": {"PHONE": "79001234567"}, "select": ["ID", "PHONE"]},
    {"filter": {"%COMMENTS": "срочно", "NOT_A_FIELD": 1}, "order": {"DATE_CREATE": "DESC"}},
    {"filter": {"<=ID": "300", ">=ID": 250, "CLOSED": "N"}, "order": {"OPPORTUNITY": "DESC", "ID": "ASC"}},
]


def _check_all(portal, tok):
    for case in ITEM_CASES:
        params = {"entityTypeId": DEAL, **case}
        status, body = rest(portal, "crm.item.list", tok, **params)
        body.pop("time", None)
        assert (status, body) == _ref_item_list(portal.db, params), case
    for case in DEAL_CASES:
        status, body = rest(portal, "crm.deal.list", tok, **case)
        body.pop("time", None)
        assert (status, body) == _ref_deal_list(portal.db, case), case


def _keyset_batch(portal, tok):
    cmd = {}
    for k in range(12):
        ref = "0" if k == 0 else f"$result[p{k - 1}][items][49][id]"
        cmd[f"p{k}"] = (f"crm.item.list?entityTypeId=2&filter[>id]={ref}&filter[@categoryId][0]=0&"
                        f"filter[@categoryId][1]=2&filter[!stageSemanticId]=F&order[id]=ASC&start=-1")
    result = ok(portal, "batch", tok, halt=0, cmd=cmd)["result"]["result"]
    last = 0
    for k in range(12):
        params = {"entityTypeId": DEAL, "filter": {">id": last, "@categoryId": [0, 2], "!stageSemanticId": "F"},
                  "order": {"id": "ASC"}, "start": -1}
        _, ref = _ref_item_list(portal.db, params)
        assert result[f"p{k}"] == ref["result"], k
        if len(ref["result"]["items"]) < 50:
            break
        last = ref["result"]["items"][49]["id"]
    return k


def test_list_answers_match_the_reference_across_writes(portal, tok):
    _seed(portal.db)
    _check_all(portal, tok)
    assert _keyset_batch(portal, tok) >= 3
    # writes through the API: change filtered fields, add rows, delete rows (the id index must follow)
    rows = sorted(portal.db.deals.rows)
    for rid in rows[::17]:
        ok(portal, "crm.item.update", tok, entityTypeId=DEAL, id=rid,
           fields={"title": "Монтаж ОКНА после", "opportunity": 1500.5, "ufCrmScore": 42})
    for rid in rows[5::23]:
        ok(portal, "crm.deal.delete", tok, id=rid)
    for i in range(30):
        ok(portal, "crm.deal.add", tok, fields={"TITLE": f"новые окна {i}", "UF_CRM_SCORE": i % 6,
                                                "UF_CRM_VISIT": "2026-03-20", "COMMENTS": "Срочно"})
    assert portal.db.deals.id_index()[0][-1] == max(portal.db.deals.rows)
    _check_all(portal, tok)
    assert _keyset_batch(portal, tok) >= 3


def test_offset_pages_in_one_batch_follow_writes_made_in_between(portal, tok):
    """Offset pages of one query share the matched rows inside a batch; an in-place update (batch 1), an
    add and a delete (batch 2) invalidate them (Table.data_version), so the pages after each write equal
    the reference on the data as it is then."""
    _seed(portal.db, 300)
    filt = {">=createdTime": "2026-03-01T00:00:00+03:00", "<createdTime": "2026-04-01T00:00:00+03:00",
            "!stageSemanticId": "F"}
    order = {"title": "ASC", "id": "DESC"}
    q = "&".join(f"filter[{quote(k, safe='')}]={quote(v, safe='')}" for k, v in filt.items())
    page = "crm.item.list?entityTypeId=2&order[title]=ASC&order[id]=DESC&" + q + "&start={}"

    def refs():
        return [_ref_item_list(portal.db, {"entityTypeId": DEAL, "filter": filt, "order": order, "start": s})[1]
                for s in (0, 50)]

    def check(body, keys, expected):
        for key, ref in zip(keys, expected):
            assert body["result"][key] == ref["result"] and body["result_total"][key] == ref["total"], key

    before = refs()
    moved = before[0]["result"]["items"][3]["id"]             # on page 1: its new title sorts it last
    body = ok(portal, "batch", tok, halt=1, cmd={
        "a0": page.format(0), "a1": page.format(50),
        "u": f"crm.item.update?entityTypeId=2&id={moved}&fields[title]=" + quote("яяя"),
        "b0": page.format(0), "b1": page.format(50)})["result"]
    assert body["result_error"] == []
    check(body, ("a0", "a1"), before)
    after_update = refs()
    check(body, ("b0", "b1"), after_update)
    assert moved in [i["id"] for i in before[0]["result"]["items"]]
    assert moved not in [i["id"] for i in after_update[0]["result"]["items"]]

    gone = after_update[0]["result"]["items"][7]["id"]
    body = ok(portal, "batch", tok, halt=1, cmd={
        "c0": page.format(0), "c1": page.format(50),
        "n": "crm.item.add?entityTypeId=2&fields[title]=AAA",
        "d": f"crm.item.delete?entityTypeId=2&id={gone}",
        "e0": page.format(0), "e1": page.format(50)})["result"]
    assert body["result_error"] == []
    check(body, ("c0", "c1"), after_update)
    final = refs()
    check(body, ("e0", "e1"), final)
    # the deleted row is out; AAA was created now (createdTime is read-only), not in March
    assert final[0]["total"] == before[0]["total"] - 1 and gone not in [i["id"] for i in final[0]["result"]["items"]]
