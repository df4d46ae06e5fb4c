"""Apply the plan to a portal in rounds and record what exists under ``store.kv[member_id]["installed"]``.

Why rounds: a smart process's stages and fields cannot be named before the portal has given it an id,
so each round re-reads the portal, re-plans, and sends only the unblocked steps in batches
(``batch_many``, 50 commands per HTTP call). Why re-read instead of trusting answers: after a dropped
connection we cannot know whether an add ran; the portal can. So a retry after any fault converges on
the complete state without duplicates — the planner sees what landed and creates only what did not.
Before a smart process or pipeline is created its intent is recorded as "pending", so the next round
knows the pipeline is ours and may replace its default stages even if the create answer was lost.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from b24app.errors import B24Error, InstallError

from . import manifest as manifest_mod
from .plan import CHANGING, Plan, Step, Target, event_key, make_plan
from .state import PortalState, read_state

log = logging.getLogger("b24app.install.apply")

KV_KEY = "installed"
MAX_ROUNDS = 6
# Answers that mean "it is already there": a previous attempt landed, which is what we wanted.
ALREADY = ("already binded", "already installed", "already exists", "error_activity_already_installed")


@dataclass
class InstallReport:
    member_id: str
    rounds: int = 0
    sent: list[str] = field(default_factory=list)        # "create visit: crm.type.add"
    errors: list[str] = field(default_factory=list)
    plan: Plan | None = None                             # the final plan (all "leave" when complete)

    @property
    def complete(self) -> bool:
        return self.plan is not None and self.plan.complete

    def summary(self) -> str:
        state = "complete" if self.complete else "INCOMPLETE"
        return (f"portal {self.member_id}: {state} after {self.rounds} round(s), {len(self.sent)} call(s) sent, "
                f"{len(self.errors)} error(s)")


def target_for(services, member_id: str) -> Target:
    """Handler URLs from our settings; language and installing admin from the stored portal."""
    p = services.store.portals.get(member_id)
    return Target(public_url=services.settings.public_url, lang=(p.lang if p and p.lang else "ru"),
                  auth_user_id=p.user_id if p else None)


def recorded(store, member_id: str) -> dict:
    return store.kv.get(member_id, KV_KEY) or {}


def dry_run(services, member_id: str, manifest=None) -> Plan:
    """What ``install`` would do now — read only."""
    m = manifest or manifest_mod.load()
    client = services.client(member_id)
    return make_plan(m, read_state(client, m), recorded(services.store, member_id), target_for(services, member_id))


def _benign(err: B24Error) -> bool:
    text = f"{err.code} {err.description}".lower()
    return any(a in text for a in ALREADY)


def _intents(rec: dict, steps: list[Step]) -> dict:
    created = dict(rec.get("created", {}))
    for s in steps:
        if s.action == "create" and s.kind in ("smart_process", "pipeline") and "." not in s.key:
            created.setdefault(f"{s.kind}:{s.key}", "pending")
    return {**rec, "created": created}


def _merge(old: dict, ids: dict, state: PortalState) -> dict:
    """The new record is what exists now; bindings an older manifest made and that still exist are
    kept so the next plan can remove them."""
    out = {**ids, "created": dict(old.get("created", {}))}
    have_robots = set(state.robots)
    for code, fp in old.get("robots", {}).items():
        if code not in out["robots"] and code in have_robots:
            out["robots"][code] = fp
    have_pl = {(str(r.get("placement", "")).upper(), r.get("handler")) for r in state.placements}
    keep = {(p["placement"], p["handler"]) for p in out["placements"]}
    out["placements"] += [p for p in old.get("placements", [])
                          if (p["placement"], p["handler"]) in have_pl and (p["placement"], p["handler"]) not in keep]
    have_ev = {event_key(r) for r in state.events}
    keep = {(e["event"], e["handler"]) for e in out["events"]}
    out["events"] += [e for e in old.get("events", [])
                      if (e["event"], e["handler"]) in have_ev and (e["event"], e["handler"]) not in keep]
    return out


def _chunks(steps: list[Step], size: int = 50) -> list[list[Step]]:
    """Steps grouped so each group is one batch HTTP call (≤ 50 commands) — one progress tick each."""
    out, cur, n = [], [], 0
    for s in steps:
        if cur and n + len(s.calls) > size:
            out.append(cur)
            cur, n = [], 0
        cur.append(s)
        n += len(s.calls)
    if cur:
        out.append(cur)
    return out


def step_text(steps: list[Step]) -> str:
    """What the admin reads under the progress bar: the first step of a batch and how many more."""
    first = steps[0]
    more = f" (+{len(steps) - 1})" if len(steps) > 1 else ""
    return f"{first.action} {first.kind} {first.key}{more}"


def _send(client, steps: list[Step], report: InstallReport) -> None:
    calls, owners = [], []
    for s in steps:
        for c in s.calls:
            calls.append(c)
            owners.append(s)
    results = client.batch_many(calls, halt=False)
    for (method, _), s, r in zip(calls, owners, results):
        report.sent.append(f"{s.action} {s.key}: {method}")
        if not r.ok and not _benign(r.error):
            report.errors.append(f"{s.key}: {method}: {r.error.code} {r.error.description}")
            log.warning("install %s: %s %s failed: %s", report.member_id, s.key, method, r.error)


Progress = Callable[[int, int, str], None]


def _changing(plan: Plan) -> int:
    return sum(1 for s in plan.steps if s.action in CHANGING)


def install(services, member_id: str, manifest=None, *, max_rounds: int = MAX_ROUNDS,
            progress: Progress | None = None) -> InstallReport:
    """Bring the portal to the manifest. Safe to repeat; a second run sends no create calls.

    ``progress(done, total, step)`` is called after reading the portal and after every batch: ``done`` =
    steps sent so far, ``total`` = done + what the current plan still has to change (it can grow when a
    round unblocks children), ``step`` = what is being sent."""
    m = manifest or manifest_mod.load()
    client = services.client(member_id)
    kv = services.store.kv
    rec = recorded(services.store, member_id)
    target = target_for(services, member_id)
    report = InstallReport(member_id)
    tick = progress or (lambda done, total, step: None)
    done = 0
    tick(0, 0, "read portal")
    for _ in range(max_rounds):
        try:
            state = read_state(client, m)
        except B24Error as exc:                     # a storm outlasting the client's retries, a dropped read
            report.errors.append(f"reading the portal: {exc}")
            report.rounds += 1
            continue
        plan = make_plan(m, state, rec, target)
        rec = _merge(rec, plan.ids, state)
        steps = plan.runnable()
        report.plan = plan
        if not steps:
            break
        report.rounds += 1
        rec = _intents(rec, steps)
        kv.set(member_id, KV_KEY, rec)              # intents reach the store before the portal is touched
        total = done + _changing(plan)
        try:
            for chunk in _chunks(steps):
                tick(done, total, step_text(chunk))
                _send(client, chunk, report)
                done += len(chunk)
        except B24Error as exc:                     # no answer for a whole batch: re-read and re-plan
            report.errors.append(f"round {report.rounds}: {exc.code} {exc.description}")
            log.warning("install %s round %d: %s", member_id, report.rounds, exc)
        tick(done, max(total, done), "read portal")
    if report.complete:
        rec["created"] = {k: "done" for k in rec.get("created", {})}
        rec["version"] = m.version
        rec["complete"] = True
    else:
        rec["complete"] = False
    kv.set(member_id, KV_KEY, rec)
    if report.complete:
        tick(done, done, "complete")
    log.info("%s", report.summary())
    return report


def install_or_raise(services, member_id: str, progress: Progress | None = None) -> None:
    """The install hook (``registry.on_install``, install/plugin.py) the "app:INSTALL" job runs; the
    install job passes ``progress``. An incomplete install raises so the install page shows the error and
    a retry button."""
    report = install(services, member_id, progress=progress)
    if not report.complete:
        left = [s.line() for s in report.plan.steps if s.action != "leave"] if report.plan else []
        raise InstallError(report.summary() + "; " + "; ".join(report.errors[:5] or left[:5]))
