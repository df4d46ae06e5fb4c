"""Creates that a retry cannot double: what a robot call (or any job with a stable key) adds to the CRM
carries ``xmlId = b24app:<key>`` — the crm.item "external code" field — and is looked up by it first.

Why: the client does not resend a write after a dropped connection (it may have run), and the inbox
re-runs the handler; without a key the portal would get a second Work item for one robot call.
"""
from __future__ import annotations

import hashlib

from b24app.errors import B24TransportError

XML_ID_PREFIX = "b24app:"


def xml_id(token: str) -> str:
    """``xmlId`` of what a robot call creates: ``b24app:<event_token>``; a token too long for the field is
    hashed (the portal's external-code column is a short string)."""
    tail = token if len(token) <= 200 else hashlib.sha256(token.encode()).hexdigest()
    return XML_ID_PREFIX + tail


def find_by_xml_id(client, entity_type_id: int, xml: str) -> dict | None:
    """The item a previous attempt of this robot call made, if it made one."""
    rows = (client.call("crm.item.list", {"entityTypeId": int(entity_type_id), "filter": {"=xmlId": xml},
                                          "select": ["*"]}) or {}).get("items") or []
    return rows[0] if rows else None


def add_once(client, entity_type_id: int, fields: dict, xml: str | None) -> dict:
    """``crm.item.add`` that a retry cannot double: look the item up by ``xmlId`` first, and again when the
    add got no answer (it may have run). Without an xml id it is a plain add."""
    if not xml:
        return client.call("crm.item.add", {"entityTypeId": int(entity_type_id), "fields": fields})["item"]
    found = find_by_xml_id(client, entity_type_id, xml)
    if found:
        return found
    try:
        return client.call("crm.item.add", {"entityTypeId": int(entity_type_id),
                                            "fields": {**fields, "xmlId": xml}})["item"]
    except B24TransportError:
        found = find_by_xml_id(client, entity_type_id, xml)
        if found:
            return found
        raise
