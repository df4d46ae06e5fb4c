"""What an operator watches on a deployment of many portals (issue 18): the inbox's depth and age per kind,
retries and give-ups, how many portals are waiting, installed portals by status — read from the database,
so every web process answers for the whole deployment — and this process's own portal calls and 503s.

No member_id, domain or payload appears: the figures are aggregates, safe to hand to a metrics system.
``render`` writes them in Prometheus' text format; ``b24app status`` prints the same.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timezone

import sqlalchemy as sa

from .store.tables import inbox as t_inbox
from .store.tables import portals as t_portals

# This process's portal calls by outcome (b24app/portal.py counts them): "sent", "503", "429".
PORTAL_CALLS: Counter = Counter()
_lock = threading.Lock()


def count_call(outcome: str) -> None:
    with _lock:
        PORTAL_CALLS[outcome] += 1


def collect(store, clock=time.time, registry=None) -> dict:
    """The deployment's figures: {"inbox": [{kind, status, items, oldest_seconds, retrying}], ...}; with a
    registry, its domains' own gauges too (e.g. how long ago 1C last synced)."""
    i = t_inbox.c
    now = datetime.fromtimestamp(clock(), timezone.utc)
    with store.engine.connect() as c:
        inbox = [{"kind": kind, "status": status, "items": int(n), "retrying": int(retrying or 0),
                  "oldest_seconds": _age(now, oldest)}
                 for kind, status, n, retrying, oldest in c.execute(
                     sa.select(i.kind, i.status, sa.func.count(),
                               sa.func.sum(sa.case((i.attempts > 0, 1), else_=0)), sa.func.min(i.created_at))
                     .where(i.status != "done").group_by(i.kind, i.status).order_by(i.kind, i.status))]
        waiting = c.execute(sa.select(sa.func.count(sa.distinct(i.member_id))).where(i.status == "pending")).scalar()
        portals = {status: int(n) for status, n in c.execute(
            sa.select(t_portals.c.status, sa.func.count()).group_by(t_portals.c.status))}
    with _lock:
        calls = dict(PORTAL_CALLS)
    domain = {}
    for name, (help_text, declared) in sorted((getattr(registry, "metrics", None) or {}).items()):
        domain[name] = (help_text, list(declared.fn(store, now)))
    return {"inbox": inbox, "portals_waiting": int(waiting or 0), "portals": portals, "portal_calls": calls,
            "domain": domain}


def _age(now: datetime, then) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:                       # SQLite hands back naive UTC
        then = then.replace(tzinfo=timezone.utc)
    return max(0.0, round((now - then).total_seconds(), 3))


def _label(v: str) -> str:
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render(figures: dict) -> str:
    """Prometheus text exposition format 0.0.4."""
    out = [
        "# HELP b24app_inbox_items Queued work not yet done, by kind and status (pending, working, failed).",
        "# TYPE b24app_inbox_items gauge",
    ]
    out += [f'b24app_inbox_items{{kind="{_label(r["kind"])}",status="{_label(r["status"])}"}} {r["items"]}'
            for r in figures["inbox"]]
    out += ["# HELP b24app_inbox_oldest_seconds Age of the oldest item by kind and status.",
            "# TYPE b24app_inbox_oldest_seconds gauge"]
    out += [f'b24app_inbox_oldest_seconds{{kind="{_label(r["kind"])}",status="{_label(r["status"])}"}} '
            f'{r["oldest_seconds"]}' for r in figures["inbox"]]
    out += ["# HELP b24app_inbox_retrying Items that failed at least once and wait for another try (pending) "
            "or were given up (failed).", "# TYPE b24app_inbox_retrying gauge"]
    out += [f'b24app_inbox_retrying{{kind="{_label(r["kind"])}",status="{_label(r["status"])}"}} {r["retrying"]}'
            for r in figures["inbox"] if r["status"] in ("pending", "failed")]
    out += ["# HELP b24app_portals_waiting Portals with at least one pending item.",
            "# TYPE b24app_portals_waiting gauge", f'b24app_portals_waiting {figures["portals_waiting"]}',
            "# HELP b24app_portals Portals by install status.", "# TYPE b24app_portals gauge"]
    out += [f'b24app_portals{{status="{_label(s)}"}} {n}' for s, n in sorted(figures["portals"].items())]
    out += ["# HELP b24app_portal_calls_total Portal REST calls this process sent, and the refusals among "
            "them (503 portal busy, 429 operating-time limit).", "# TYPE b24app_portal_calls_total counter"]
    out += [f'b24app_portal_calls_total{{outcome="{_label(k)}"}} {v}'
            for k, v in sorted(figures["portal_calls"].items())]
    for name, (help_text, samples) in figures.get("domain", {}).items():
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for labels, value in samples:
            inner = ",".join(f'{k}="{_label(v)}"' for k, v in sorted(labels.items()))
            out.append(f"{name}{{{inner}}} {value}" if inner else f"{name} {value}")
    return "\n".join(out) + "\n"


def summary(figures: dict) -> list[str]:
    """The same figures as lines for a terminal (``b24app status``)."""
    lines = ["portals: " + (", ".join(f"{s} {n}" for s, n in sorted(figures["portals"].items())) or "none"),
             f"portals with pending work: {figures['portals_waiting']}"]
    if not figures["inbox"]:
        lines.append("inbox: empty")
    for r in figures["inbox"]:
        lines.append(f"inbox {r['kind']:<12} {r['status']:<8} {r['items']:>7}  oldest {r['oldest_seconds']:>9.1f} s"
                     f"  retried {r['retrying']}")
    for name, (_, samples) in figures.get("domain", {}).items():
        for labels, value in samples:
            lines.append(f"{name} {' '.join(f'{k}={v}' for k, v in sorted(labels.items()))} {value}".rstrip())
    return lines
