"""Production → installation (seed 000: "the order goes to production and reaches the warehouse; then the
installation pipeline joins in and the manager plans its date on the map").

When a production deal reaches its done stage (``ready``, the default) — or is paid in full, when the
portal's ``maps.settings`` say ``handoff: {"when": "paid"}`` — one installation deal is created: same
client, manager, address and coordinates, stage ``new``, linked back through the ``source_deal`` field and
a note on both timelines. It is a job of the map at once (unassigned, waiting to be planned).

Why here: the map's refresh job already reads every changed deal (``crm.deal.get`` × 50 per batch), so the
check costs no portal call of its own. Why "once" holds: the new deal carries
``ORIGINATOR_ID=b24app`` / ``ORIGIN_ID=handoff:<production id>`` (the portal's own external-source pair) and
is looked up by it before an add and after an add that got no answer; our kv remembers the pair so a
production deal that keeps changing costs no look-up; and the whole check runs under the map cache's
per-portal lease, so two workers cannot both add.
"""
from __future__ import annotations

import logging

from b24app.errors import B24Error, B24TransportError
from b24app.i18n import lang_of
from install.registry import NotInstalled

from . import jobcache, service

log = logging.getLogger(__name__)

ORIGINATOR = "b24app"
DEFAULT_WHEN = "ready"
KV_PREFIX = "maps.handoff."
PENDING = "maps.handoff_pending."     # a hand-off that failed: tried again on the deal's next change
COPIED = ("COMPANY_ID", "CONTACT_ID", "ASSIGNED_BY_ID")
COPIED_FIELDS = ("job_address", "coordinates")


def origin_id(production_id: int) -> str:
    return f"handoff:{int(production_id)}"


def when(conf: dict) -> str:
    return str((conf.get("handoff") or {}).get("when") or DEFAULT_WHEN)


def due(row: dict, ids, conf: dict, before=None) -> bool:
    """Is this production deal (as ``crm.deal.get`` answered) ready to be handed to installation?

    ``before`` is the map cache's job as it was before this read: a deal that already sat at its done stage
    then did not *reach* it now (a title edited on 200 old finished orders creates no 200 installations)."""
    try:
        production = ids.pipeline("production")
        ids.pipeline("installation")
    except NotInstalled:
        return False
    if str(row.get("CATEGORY_ID") or "0") != str(production.category_id):
        return False
    mode = when(conf)
    if mode == "ready":
        stage = production.stage_key(str(row.get("STAGE_ID") or ""))
        was = getattr(before, "stage", None)
        return stage in ("ready", "won") and was not in ("ready", "won")
    if mode == "paid":
        return str(row.get(ids.deal_field("paid_in_full")) or "") in ("1", "Y", "true", "True")
    return False


def _find(client, production_id: int) -> int | None:
    rows = client.call("crm.deal.list", {"filter": {"ORIGINATOR_ID": ORIGINATOR, "ORIGIN_ID": origin_id(production_id)},
                                         "select": ["ID"]}) or []
    return int(rows[0]["ID"]) if rows else None


def _texts(lang: str, title: str, production_id: int, installation_id: int) -> tuple[str, str, str]:
    if lang == "en":
        return (f"Installation: {title}",
                f"Production is done: installation deal #{installation_id} was created to be planned on the map.",
                f"Created from production deal #{production_id}: plan the installation date on the orders map.")
    return (f"Монтаж: {title}",
            f"Производство завершено: создана сделка монтажа #{installation_id}, её дату планируют на карте заказов.",
            f"Создана из сделки производства #{production_id}: запланируйте дату монтажа на карте заказов.")


def hand_off(services, member_id: str, ids, row: dict) -> int:
    """The installation deal of this production deal: found, or created once. Returns its id."""
    production_id = int(row["ID"])
    key = KV_PREFIX + str(production_id)
    known = services.store.kv.get(member_id, key)
    if known:
        return int(known)
    client = services.app_client(member_id)
    found = _find(client, production_id)
    if found is None:
        portal = services.store.portals.get(member_id)
        lang = lang_of(portal.lang if portal else "ru")
        installation = ids.pipeline("installation")
        title, _, _ = _texts(lang, str(row.get("TITLE") or f"#{production_id}"), production_id, 0)
        fields = {"TITLE": title, "CATEGORY_ID": installation.category_id, "STAGE_ID": installation.stage("new"),
                  "ORIGINATOR_ID": ORIGINATOR, "ORIGIN_ID": origin_id(production_id)}
        try:                                       # a portal not yet upgraded to app.json v5 lacks the link field
            fields[ids.deal_field("source_deal")] = production_id
        except NotInstalled:
            pass
        fields.update({k: row[k] for k in COPIED if row.get(k)})
        fields.update({ids.deal_field(k): row[ids.deal_field(k)] for k in COPIED_FIELDS if row.get(ids.deal_field(k))})
        try:
            found = int(client.call("crm.deal.add", {"fields": fields}))
        except B24TransportError:                  # it may have run: look before trying again
            found = _find(client, production_id)
            if found is None:
                raise
        _, on_production, on_installation = _texts(lang, "", production_id, found)
        client.batch({
            "p": ("crm.timeline.comment.add", {"fields": {"ENTITY_ID": production_id, "ENTITY_TYPE": "deal",
                                                          "COMMENT": on_production}}),
            "i": ("crm.timeline.comment.add", {"fields": {"ENTITY_ID": found, "ENTITY_TYPE": "deal",
                                                          "COMMENT": on_installation}})})
        log.info("portal %s: production deal %s handed to installation deal %s", member_id, production_id, found)
    services.store.kv.set(member_id, key, found)
    return found


def on_rows(services, member_id: str, ids, rows: dict, *, before: dict | None = None) -> list[int]:
    """After the map's refresh read these deals: hand every due production deal over (once each) and put
    the new installation deals on the map now. A failure is logged and retried by the next change."""
    conf = service.settings(services, member_id)
    if when(conf) == "off":
        return []
    before, kv = before or {}, services.store.kv
    due_rows = [r for k, r in rows.items() if r is not None and not kv.get(member_id, KV_PREFIX + str(r["ID"]))
                and (due(r, ids, conf, before.get(int(k)))        # reached its done stage now, or
                     or (kv.get(member_id, PENDING + str(r["ID"])) and due(r, ids, conf)))]  # failed last time
    if not due_rows:
        return []
    made = []
    with jobcache._Lease(services.store.engine, member_id, wait=jobcache.LEASE_SECONDS):
        for r in due_rows:
            try:
                made.append(hand_off(services, member_id, ids, r))
                kv.delete(member_id, PENDING + str(r["ID"]))
            except B24Error as exc:
                kv.set(member_id, PENDING + str(r["ID"]), 1)
                log.warning("portal %s: hand-off of production deal %s failed: %s", member_id, r.get("ID"), exc)
    if made:
        service.changed(services, member_id, made)
    return made
