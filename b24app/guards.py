"""Stage guards — one mechanism for every domain that refuses a move (the rules engine's entry and
no-way-back guards, the 1C paid gate).

Bitrix24 has no "before stage change" hook for apps, so a guard acts after the fact: it sees the move in
ONCRMDEALUPDATE, decides, and a refused move is **reverted** — the deal goes back to the stage it came from —
with a notification to the responsible saying why. Two things are shared here:

* ``revert()``: the move back and the notification. A forbidden move is moved back once however many guards
  refuse it (one claim per entity and move, keyed by its MOVED_TIME): the second guard only adds its own
  reason, so two guards never bounce the deal twice, and a replayed event does not move it again.
* named checks (``check()``): a verdict a domain provides and another's rules may use — ``paid_in_full`` is
  the 1C paid gate's own verdict (sync_1c registers it), so a rule "closing needs signed documents AND full
  payment" asks the gate instead of keeping a second idea of "paid".
"""
from __future__ import annotations

import hashlib
import logging
from typing import Callable

log = logging.getLogger("b24app.guards")

# the checks a rules file may name, with what each means (the provider is registered by its domain)
CHECKS: dict[str, dict] = {
    "paid_in_full": {"ru": "оплачено полностью (по 1С, если она подключена)",
                     "en": "paid in full (by 1C where it is connected)"},
}
_providers: dict[str, Callable] = {}
CLAIM_SECONDS = 7 * 86400.0
UPDATE = {"deal": "crm.deal.update", "lead": "crm.lead.update"}
STAGE_FIELD = {"deal": "STAGE_ID", "lead": "STATUS_ID"}


def known_checks() -> set[str]:
    return set(CHECKS)


def provide(name: str, fn: Callable) -> None:
    """``fn(services, member_id, entity, row) -> bool | None`` (None: this deployment cannot tell)."""
    if name not in CHECKS:
        raise KeyError(name)
    _providers[name] = fn


def check(name: str, services, member_id: str, entity: str, row: dict) -> bool | None:
    fn = _providers.get(name)
    return None if fn is None else fn(services, member_id, entity, row)


def _claim(kv, member_id: str, entity: str, row: dict, owner: str) -> bool:
    key = f"guards.revert:{entity}:{int(row['ID'])}:{row.get('MOVED_TIME') or row.get('DATE_MODIFY') or ''}"
    if kv.try_lock(member_id, key, owner, CLAIM_SECONDS):
        return True
    held = kv.get(member_id, f"lock:{key}"[:255]) or {}
    return held.get("owner") == owner        # our own earlier attempt (a retry after a failure) goes on


def _back_key(entity: str, entity_id) -> str:
    return f"guards.back:{entity}:{int(entity_id)}"


def moved_back_to(kv, member_id: str, entity: str, entity_id) -> str | None:
    """The stage a guard last moved this entity back to (so its rules do not take the move back for a new
    entry into that stage)."""
    return kv.get(member_id, _back_key(entity, entity_id))


def forget_move_back(kv, member_id: str, entity: str, entity_id) -> None:
    kv.delete(member_id, _back_key(entity, entity_id))


def revert(services, member_id: str, *, client, entity: str, row: dict, back: str | None, guard: str,
           users: list[int], message: str) -> dict:
    """Move ``row`` back to ``back`` (once per move, whoever refuses it first) and tell ``users`` why.
    Returns {"moved": bool, "stage": back}."""
    owner = hashlib.sha256(f"{guard}".encode()).hexdigest()[:16]
    moved = False
    if back and _claim(services.store.kv, member_id, entity, row, owner):
        services.store.kv.set(member_id, _back_key(entity, row["ID"]), back)
        if str(row.get(STAGE_FIELD[entity]) or "") != back:
            client.call(UPDATE[entity], {"id": int(row["ID"]), "fields": {STAGE_FIELD[entity]: back}})
        moved = True
    calls = [("im.notify.system.add", {"USER_ID": int(u), "MESSAGE": message}) for u in users if u]
    if len(calls) == 1:
        client.call(*calls[0])
    elif calls:
        failed = [r.error for r in client.batch_many(calls) if not r.ok]
        if failed:
            raise failed[0]
    log.info("guard %s: %s %s of %s back to %s (moved=%s)", guard, entity, row.get("ID"), member_id, back, moved)
    return {"moved": moved, "stage": back}
