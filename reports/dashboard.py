"""Every dashboard of the page (and the feed) from the cache (reports/cache.py): a few grouped SQL queries
over ``reports_visits`` / ``reports_sales`` and the plans — no portal call once the cache is warm.

Sections: visits by region (planned / done / overdue / failed); plan vs fact per employee; plan vs fact by
month as a trend; visit types and their shares; 1C sales per employee next to their visits; jobs per
worker with travel and on-site minutes. Filters: period, region, employee (the region applies to visits;
sales and jobs have none)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from b24app.errors import said

from . import cache, charts
from . import plan as plans
from .jobs_report import jobs_report
from .period import Period, ReportError
from .strings import strings, type_label
from .visits_report import _user_filter

COUNTS = ("planned", "done", "overdue", "failed", "total")
TREND_MONTHS = 6


def _blank() -> dict:
    return {k: 0 for k in COUNTS}


def _month_first(d: date) -> date:
    return d.replace(day=1)


def trend_span(period: Period) -> Period:
    """The months the trend shows: the period's own when it spans two or more, else the
    TREND_MONTHS months that end with the period's last month."""
    first_month = _month_first(period.first)
    last_month = _month_first(period.last)
    if first_month != last_month:
        start = first_month
    else:
        y, m = last_month.year, last_month.month - (TREND_MONTHS - 1)
        while m <= 0:
            y, m = y - 1, m + 12
        start = date(y, m, 1)
    nxt = date(last_month.year + (last_month.month == 12), last_month.month % 12 + 1, 1)
    return Period("custom", start, nxt - timedelta(days=1))


def _trend_groups(engine, member_id: str, span: Period, region, user):
    """(month, manager, kind, n) over the trend's months."""
    t = cache.t_visits.c
    month = sa.func.substr(t.day, 1, 7)
    q = (sa.select(month.label("month"), t.manager, t.kind, sa.func.count().label("n"))
         .where(t.member_id == member_id, t.day >= span.first.isoformat(), t.day <= span.last.isoformat())
         .group_by(month, t.manager, t.kind))
    if region:
        q = q.where(t.region == region)
    if user:
        q = q.where(t.manager == user)
    with engine.connect() as c:
        return c.execute(q).all()


def _regions_of(engine, member_id: str, period: Period) -> list[str]:
    t = cache.t_visits.c
    with engine.connect() as c:
        return sorted((r for r in c.execute(sa.select(t.region).distinct().where(
            t.member_id == member_id, t.day >= period.first.isoformat(), t.day <= period.last.isoformat(),
            t.region != "")).scalars()), key=str.casefold)


def _sales(engine, member_id: str, period: Period, user) -> dict[int, dict]:
    t = cache.t_sales.c
    q = (sa.select(t.manager, sa.func.sum(t.amount).label("amount"),
                   sa.func.count(sa.distinct(t.deal_id)).label("deals"))
         .where(t.member_id == member_id, t.day >= period.first.isoformat(), t.day <= period.last.isoformat())
         .group_by(t.manager))
    if user:
        q = q.where(t.manager == user)
    with engine.connect() as c:
        return {int(r.manager): {"amount": Decimal(r.amount or 0).quantize(Decimal("0.01")), "deals": int(r.deals)}
                for r in c.execute(q)}


def _pct(a, b):
    return round(100 * a / b) if b else None


def dashboard(services, member_id: str, period: Period, region=None, user=None, lang: str = "ru",
              with_charts: bool = True, refresh: bool = True) -> dict:
    user = _user_filter(user)
    region = (region or "").strip() or None
    if region and len(region) > 255:
        raise ReportError(said(f"region: at most 255 characters are expected, got {len(region)}",
                               f"region: не длиннее 255 символов, а не {len(region)}"))
    engine = services.store.engine
    read = cache.ensure(services, member_id) if refresh else {"source": "cache", "http_calls": 0}
    span = trend_span(period)
    plan = plans.Plans(services.store, member_id, period.first, period.last)
    by_region, by_user, types, totals = _exact(engine, member_id, period, region, user)
    fact_month: dict[str, int] = {}
    people_month: dict[str, set] = {}
    for g in _trend_groups(engine, member_id, span, region, user):
        if g.kind == "done":
            fact_month[g.month] = fact_month.get(g.month, 0) + int(g.n)
        people_month.setdefault(g.month, set()).add(int(g.manager))
    if region is None:
        for uid in plan.holders():
            if uid not in by_user and (user is None or uid == user):
                by_user[uid] = {"user_id": uid, "on_time": 0, **_blank()}
    sales = _sales(engine, member_id, period, user)
    ids = set(by_user) | set(sales)
    names = cache.names(services, member_id, ids) if ids else {}

    employees = []
    for uid in sorted(by_user, key=lambda k: (k == 0, k)):
        r = by_user[uid]
        target = plan.for_user(uid) if uid else None
        r.update(name=names.get(str(uid), f"#{uid}") if uid else "", plan=target, fact=r["done"],
                 percent=_pct(r["done"], target), on_time_percent=_pct(r["on_time"], r["done"]))
        employees.append(r)
    regions = sorted(by_region.values(), key=lambda r: (r["region"] == "", r["region"].casefold()))

    sales_rows = []
    for uid in sorted(set(sales) | {u for u in by_user if u}, key=lambda k: (k == 0, k)):
        s = sales.get(uid, {"amount": Decimal("0.00"), "deals": 0})
        v = by_user.get(uid, _blank())
        sales_rows.append({"user_id": uid or None, "name": names.get(str(uid), f"#{uid}") if uid else "",
                           "visits": v["total"], "done": v["done"], "sales": s["amount"], "deals": s["deals"],
                           "per_visit": (s["amount"] / v["done"]).quantize(Decimal("0.01")) if v["done"] else None})
    sales_totals = {"visits": sum(r["visits"] for r in sales_rows), "done": sum(r["done"] for r in sales_rows),
                    "sales": sum((r["sales"] for r in sales_rows), Decimal("0.00")),
                    "deals": sum(r["deals"] for r in sales_rows)}

    s = strings(lang)
    total_types = sum(types.values())
    type_rows = [{"type": k, "label": type_label(k, lang), "count": n, "share": _pct(n, total_types) or 0}
                 for k, n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))]

    trend = []
    tplan = plans.Plans(services.store, member_id, span.first, span.last)
    for m, _, _ in plans.months(span.first, span.last):
        people = set(people_month.get(m, set())) - {0}
        if region is None:
            people |= {u for u in tplan.holders() if user is None or u == user}
        month_plans = [tplan.month(u, m) for u in people]
        p = sum(x for x in month_plans if x is not None) if any(x is not None for x in month_plans) else None
        fact = fact_month.get(m, 0)
        trend.append({"month": m, "label": _month_label(m, lang), "plan": p, "fact": fact, "percent": _pct(fact, p)})

    jobs = jobs_report(services, member_id, period, user, names=lambda ids: cache.names(services, member_id, ids))

    doc = {"period": period.public(), "filters": {"region": region, "user": user},
           "regions": regions, "totals": totals, "employees": employees, "types": type_rows, "trend": trend,
           "sales": sales_rows, "sales_totals": sales_totals, "jobs": jobs["workers"], "jobs_totals": jobs["totals"],
           "jobs_source": jobs["source"],
           "read": {"source": read.get("source"), "http_calls": read.get("http_calls"),
                    "cached_at": cache.cached_at(engine, member_id)},
           "options": {"regions": _regions_of(engine, member_id, period),
                       "users": [{"id": e["user_id"], "name": e["name"]} for e in employees if e["user_id"]]}}
    if with_charts:
        doc["charts"] = _charts(doc, s)
    return doc


def _charts(doc: dict, s: dict) -> dict:
    def region_name(r):
        return r["region"] or s["no_region"]

    def who(r):
        return r["name"] or "—"
    words = {k: s[k] for k in ("planned", "done", "overdue", "failed", "plan", "fact", "on_site_minutes",
                               "travel_minutes", "sales", "done_visits")}
    sales_rows = [{**r, "sales": float(r["sales"]), "done_visits": r["done"]} for r in doc["sales"]]
    return {
        "regions": charts.stacked("regions", s["visits.by_region"], doc["regions"],
                                  ["planned", "done", "overdue", "failed"], region_name, words),
        "employees": charts.paired("employees", s["visits.by_employee"], doc["employees"], ["plan", "fact"], who,
                                   words),
        "trend": charts.trend("trend", s["trend"], doc["trend"], ["plan", "fact"], words),
        "types": charts.donut("types", s["types"], doc["types"], words),
        "sales": charts.paired("sales", s["sales.by_employee"], sales_rows, ["sales", "done_visits"], who, words,
                               own_scale=True),
        "jobs": charts.paired("jobs", s["jobs.by_worker"], doc["jobs"], ["on_site_minutes", "travel_minutes"], who,
                              words),
    }


def _add(r: dict, kind: str, n: int) -> None:
    r["total"] += n
    if kind in r:
        r[kind] += n


def _exact(engine, member_id: str, period: Period, region, user):
    """Counts of exactly the period's days (a week, a custom range) — one more grouped query."""
    t = cache.t_visits.c
    q = (sa.select(t.region, t.manager, t.vtype, t.kind, t.on_time, sa.func.count().label("n"))
         .where(t.member_id == member_id, t.day >= period.first.isoformat(), t.day <= period.last.isoformat())
         .group_by(t.region, t.manager, t.vtype, t.kind, t.on_time))
    if region:
        q = q.where(t.region == region)
    if user:
        q = q.where(t.manager == user)
    by_region, by_user, types, totals = {}, {}, {}, _blank()
    with engine.connect() as c:
        for g in c.execute(q):
            n = int(g.n)
            _add(by_region.setdefault(g.region, {"region": g.region, **_blank()}), g.kind, n)
            u = by_user.setdefault(int(g.manager), {"user_id": int(g.manager) or None, "on_time": 0, **_blank()})
            _add(u, g.kind, n)
            u["on_time"] += n if g.on_time and g.kind == "done" else 0
            _add(totals, g.kind, n)
            types[g.vtype] = types.get(g.vtype, 0) + n
    return by_region, by_user, types, totals


MONTHS = {"ru": ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"],
          "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]}


def _month_label(m: str, lang: str) -> str:
    y, mm = m.split("-")
    return f"{MONTHS['ru' if lang == 'ru' else 'en'][int(mm) - 1]} {y}"
