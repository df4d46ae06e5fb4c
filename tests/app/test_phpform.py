"""The one PHP-form codec (b24app/phpform.py): what the three old copies did, in one place — encode as
http_build_query (our batch commands) or as the sandbox portal posts (strval), decode as PHP's $_POST."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from b24app import phpform
from b24app.phpform import FormLimitError, Limits, decode, encode
from b24app.portal import command, http_build_query

NESTED = {"fields": {"TITLE": "Окна", "OPPORTUNITY": 1500.5, "OPENED": True, "CLOSED": False, "COMMENTS": None,
                     "UF_CRM_LIST": ["a", "b"], "EMPTY": [], "NONE": {}},
          "select": ["ID", "TITLE"], "filter": {">ID": 5, "@STAGE_ID": ["NEW", "WON"]}, "start": 0}


def test_encode_is_http_build_query_by_default():
    """PortalClient's batch commands: None and empty arrays left out, True "1", False "0", order kept."""
    assert encode(NESTED) == [
        ("fields[TITLE]", "Окна"), ("fields[OPPORTUNITY]", "1500.5"), ("fields[OPENED]", "1"),
        ("fields[CLOSED]", "0"), ("fields[UF_CRM_LIST][0]", "a"), ("fields[UF_CRM_LIST][1]", "b"),
        ("select[0]", "ID"), ("select[1]", "TITLE"), ("filter[>ID]", "5"), ("filter[@STAGE_ID][0]", "NEW"),
        ("filter[@STAGE_ID][1]", "WON"), ("start", "0")]
    assert command("crm.deal.list", {"filter": {">ID": 5}, "select": ["ID"]}) == \
        "crm.deal.list?filter%5B%3EID%5D=5&select%5B0%5D=ID"
    assert http_build_query({"a": None, "b": []}) == "" and command("app.info", None) == "app.info"


def test_encode_strval_is_how_the_sandbox_portal_posts():
    """Events, robot calls, installs: every scalar a string, None and False kept as ""."""
    pairs = dict(encode(NESTED, strval=True))
    assert pairs["fields[CLOSED]"] == "" and pairs["fields[COMMENTS]"] == "" and pairs["fields[OPENED]"] == "1"
    assert "fields[EMPTY]" not in pairs and "fields[NONE]" not in pairs
    assert encode([{"a": 1}, 2], strval=True) == [("0[a]", "1"), ("1", "2")]


def test_decode_builds_what_php_builds():
    assert decode(parse_qsl("fields[TITLE]=x&select[]=ID&select[]=TITLE&filter[>ID]=5")) == {
        "fields": {"TITLE": "x"}, "select": ["ID", "TITLE"], "filter": {">ID": "5"}}
    assert decode([("a[5]", "x"), ("a[]", "y")]) == {"a": {"5": "x", "6": "y"}}      # [] = largest + 1
    assert decode([("a[]", "1"), ("a[x]", "2"), ("a[]", "3")]) == {"a": {"0": "1", "x": "2", "1": "3"}}
    assert decode([("a[][b]", "1"), ("a[][b]", "2")]) == {"a": [{"b": "1"}, {"b": "2"}]}
    assert decode([("a", "1"), ("a[b]", "2"), ("a[b]", "3")]) == {"a": {"b": "3"}}     # later values win
    assert decode([("a]b", "1"), ("c[d", "2"), ("e[f]g", "3"), ("[x]", "4")]) == {"a]b": "1", "c[d": "2",
                                                                                "e[f]g": "3"}
    # "01", a huge number and a unicode digit are string keys (PHP), never a 500 on the way
    assert decode([("a[0]", "x"), ("a[01]", "y")]) == {"a": {"0": "x", "01": "y"}}
    assert decode([("a[" + "9" * 5000 + "]", "1"), ("a[]", "2")])["a"]["0"] == "2"
    assert decode([("a[²]", "1")]) == {"a": {"²": "1"}}


def test_decode_limits_only_when_given():
    many = [("a[]", "1")] * 3000
    assert len(decode(many)["a"]) == 3000                                  # the sandbox: no limits
    with pytest.raises(FormLimitError) as e:
        decode(many, Limits(fields=2000, depth=32))
    assert (e.value.error, e.value.description) == ("FORM_TOO_LARGE", "the form has more than 2000 fields (2001)")
    with pytest.raises(FormLimitError) as e:
        decode([("a" + "[b]" * 33, "1")], Limits(fields=2000, depth=32))
    assert e.value.error == "FORM_TOO_DEEP"


def test_round_trip_and_one_codec_everywhere():
    assert decode(encode(NESTED, strval=True))["filter"] == {">ID": "5", "@STAGE_ID": ["NEW", "WON"]}
    from b24app import forms, portal

    assert forms.FormLimitError is phpform.FormLimitError
    assert not hasattr(portal, "php_pairs")
