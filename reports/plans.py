"""Plans per employee and month (``reports_plans``): how many visits a person should do in a month — the
sales director's "100 visits a month" of seed 001. Set on the settings page (people picked by name) or
imported from a CSV file; a month without a row of its own falls back to the visits settings' plan (kv
``visits.plan``: the person's number, else its "default").

Writes are all or nothing: a document or a CSV with one bad line is refused (400 naming the line) and
nothing of it is written."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import sqlalchemy as sa

from b24app.errors import said
from b24app.store.sql import _insert

from .period import ReportError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_VISITS = 100000
MAX_ROWS = 5000
MAX_CSV_BYTES = 512 * 1024

metadata = sa.MetaData()
t_plans = sa.Table(
    "reports_plans", metadata,
    sa.Column("member_id", sa.String(64), primary_key=True), sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True), sa.Column("visits", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)


class PlanError(ReportError):
    """A plan row or CSV line that cannot be stored; the text names the row or line."""


def month_of(value, where: str, where_ru: str | None = None) -> str:
    text = str(value or "").strip()
    m = re.match(r"^(\d{1,2})[./](\d{4})$", text)               # 01.2026 / 1/2026 as Excel may write it
    if m:
        text = f"{m.group(2)}-{int(m.group(1)):02d}"
    if not MONTH.match(text):
        raise PlanError(said(f"{where}: a month YYYY-MM is expected, got {value!r}",
                             f"{where_ru or where}: нужен месяц в виде ГГГГ-ММ, а не {value!r}"))
    return text


def visits_of(value, where: str, where_ru: str | None = None) -> int | None:
    """A whole number 0..MAX_VISITS; empty (None / "") = remove the plan of that month."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        value = "x"
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if isinstance(value, float) and value == int(value):
        text = str(int(value))
    if not text.isdigit() or int(text) > MAX_VISITS:
        raise PlanError(said(f"{where}: a whole number of visits from 0 to {MAX_VISITS} is expected, got {value!r}",
                             f"{where_ru or where}: нужно целое число визитов от 0 до {MAX_VISITS}, а не {value!r}"))
    return int(text)


def user_of(value, where: str) -> int:
    text = str(value if value is not None else "").strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) <= 0:
        raise PlanError(said(f"{where}: an employee id is expected, got {value!r}",
                             f"{where}: нужен сотрудник, а не {value!r}"))
    return int(text)


def validate(doc) -> list[dict]:
    """``{"plans": [{"user_id", "month", "visits"}]}`` → rows; ``visits`` null/"" removes that month's plan."""
    rows = doc.get("plans") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise PlanError(said('a JSON object {"plans": [{"user_id": 2, "month": "2026-01", "visits": 100}]} is expected',
                             'нужен JSON-объект {"plans": [{"user_id": 2, "month": "2026-01", "visits": 100}]}'))
    if len(rows) > MAX_ROWS:
        raise PlanError(said(f"at most {MAX_ROWS} plans at once", f"не более {MAX_ROWS} планов за раз"))
    out, seen = [], set()
    for n, r in enumerate(rows, 1):
        where = f"plans[{n}]"
        if not isinstance(r, dict):
            raise PlanError(said(f"{where}: an object is expected", f"{where}: нужен объект"))
        row = {"user_id": user_of(r.get("user_id"), where), "month": month_of(r.get("month"), where),
               "visits": visits_of(r.get("visits"), where)}
        key = (row["user_id"], row["month"])
        if key in seen:
            raise PlanError(said(f"{where}: employee {row['user_id']} has {row['month']} twice",
                                 f"{where}: у сотрудника {row['user_id']} месяц {row['month']} указан дважды"))
        seen.add(key)
        out.append(row)
    return out


def save(engine, member_id: str, rows: list[dict]) -> dict:
    """Upsert (visits given) or delete (visits None) every row in one transaction."""
    p = t_plans.c
    now = datetime.now(timezone.utc)
    written = removed = 0
    with engine.begin() as c:
        for r in rows:
            if r["visits"] is None:
                removed += c.execute(sa.delete(t_plans).where(p.member_id == member_id, p.user_id == r["user_id"],
                                                              p.month == r["month"])).rowcount
                continue
            stmt = _insert(engine, t_plans).values(member_id=member_id, user_id=r["user_id"], month=r["month"],
                                                   visits=r["visits"], updated_at=now)
            c.execute(stmt.on_conflict_do_update(index_elements=[p.member_id, p.user_id, p.month],
                                                 set_={"visits": r["visits"], "updated_at": now}))
            written += 1
    return {"written": written, "removed": removed}


def load(engine, member_id: str, first_month: str | None = None, last_month: str | None = None) -> list[dict]:
    p = t_plans.c
    q = sa.select(p.user_id, p.month, p.visits).where(p.member_id == member_id)
    if first_month:
        q = q.where(p.month >= first_month)
    if last_month:
        q = q.where(p.month <= last_month)
    with engine.connect() as c:
        return [{"user_id": int(r.user_id), "month": r.month, "visits": int(r.visits)}
                for r in c.execute(q.order_by(p.month, p.user_id))]


# --- CSV import -------------------------------------------------------------------------------------------
HEADERS = {"employee": ("employee", "сотрудник", "user", "user_id", "id"),
           "month": ("month", "месяц"), "visits": ("visits", "визиты", "план", "plan", "визитов")}


def _lines(raw: bytes) -> list[tuple[int, list[str]]]:
    if len(raw) > MAX_CSV_BYTES:
        raise PlanError(said(f"the file is larger than {MAX_CSV_BYTES // 1024} KB",
                             f"файл больше {MAX_CSV_BYTES // 1024} КБ"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1251")                  # Russian Excel's "CSV (разделители — точка с запятой)"
        except UnicodeDecodeError:
            raise PlanError(said("the file is not text (UTF-8 or Windows-1251 CSV is expected)",
                                 "файл не текстовый (нужен CSV в UTF-8 или Windows-1251)")) from None
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") >= max(first.count(","), first.count("\t")) else \
        ("\t" if first.count("\t") > first.count(",") else ",")
    return [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep), 1)
            if any(cell.strip() for cell in row)]


def parse_csv(raw: bytes) -> list[tuple[int, str, str, int | None]]:
    """Lines ``employee;month;visits`` (a header line is optional; ``;`` ``,`` or tab) → (line, employee,
    month, visits). The employee is an id, an e-mail or a name as the portal shows it."""
    lines = _lines(raw)
    if not lines:
        raise PlanError(said("the file has no lines", "в файле нет строк"))
    cols = {"employee": 0, "month": 1, "visits": 2}
    head = [c.strip().casefold() for c in lines[0][1]]
    if any(h in names for h in head for names in HEADERS.values()):
        for key, names in HEADERS.items():
            idx = next((i for i, h in enumerate(head) if h in names), None)
            if idx is None:
                raise PlanError(said(f"line 1: the column {key!r} is missing (employee;month;visits)",
                                     f"строка 1: нет столбца «{key}» (сотрудник;месяц;визиты)"))
            cols[key] = idx
        lines = lines[1:]
    if len(lines) > MAX_ROWS:
        raise PlanError(said(f"at most {MAX_ROWS} lines", f"не более {MAX_ROWS} строк"))
    out = []
    for n, row in lines:
        where, where_ru = f"line {n}", f"строка {n}"
        if len(row) <= max(cols.values()):
            raise PlanError(said(f"line {n}: three columns are expected (employee;month;visits), got {len(row)}",
                                 f"строка {n}: нужно три столбца (сотрудник;месяц;визиты), а их {len(row)}"))
        employee = row[cols["employee"]].strip()
        if not employee:
            raise PlanError(said(f"line {n}: the employee is empty", f"строка {n}: сотрудник не указан"))
        out.append((n, employee, month_of(row[cols["month"]], where, where_ru),
                    visits_of(row[cols["visits"]], where, where_ru)))
    return out


def _full(u: dict) -> str:
    return " ".join(p for p in (str(u.get("NAME") or "").strip(), str(u.get("LAST_NAME") or "").strip()) if p)


def resolve(client, lines) -> list[dict]:
    """Each line's employee → a portal user id (id checked, e-mail, or the full name — exactly one active
    person); one batch of ``user.get`` for all distinct names. Unknown or ambiguous → the line in the error."""
    wanted = sorted({e for _, e, _, _ in lines})
    calls = []
    for e in wanted:
        if e.isdigit():
            calls.append(("user.get", {"FILTER": {"ID": int(e)}}))
        elif "@" in e:
            calls.append(("user.get", {"FILTER": {"EMAIL": e, "ACTIVE": True}}))
        else:
            # FIND by the longest word (the portal's FIND matches one field at a time); the full name decides
            calls.append(("user.get", {"FILTER": {"FIND": max(e.split(), key=len), "ACTIVE": True}}))
    found: dict[str, list[int]] = {}
    for e, r in zip(wanted, client.batch_many(calls) if calls else []):
        users = r.result if r.ok and isinstance(r.result, list) else []
        if e.isdigit():
            ids = [int(u["ID"]) for u in users if str(u.get("ID")) == e]
        elif "@" in e:
            ids = [int(u["ID"]) for u in users if str(u.get("EMAIL") or "").casefold() == e.casefold()]
        else:
            key = " ".join(e.split()).casefold()
            ids = [int(u["ID"]) for u in users
                   if key in (_full(u).casefold(), f"{u.get('LAST_NAME', '')} {u.get('NAME', '')}".strip().casefold())]
        found[e] = sorted(set(ids))
    out = []
    for n, e, month, visits in lines:
        ids = found.get(e) or []
        if len(ids) != 1:
            if ids:
                raise PlanError(said(f"line {n}: {len(ids)} people are called {e!r}: give the e-mail or the id",
                                     f"строка {n}: «{e}» — таких сотрудников {len(ids)}, укажите e-mail или id"))
            raise PlanError(said(f"line {n}: no employee {e!r} on the portal",
                                 f"строка {n}: сотрудника «{e}» на портале нет"))
        out.append({"user_id": ids[0], "month": month, "visits": visits, "line": n})
    seen: dict[tuple, int] = {}
    for r in out:
        key = (r["user_id"], r["month"])
        if key in seen:
            raise PlanError(said(f"line {r['line']}: the same employee and month as line {seen[key]}",
                                 f"строка {r['line']}: тот же сотрудник и месяц, что в строке {seen[key]}"))
        seen[key] = r["line"]
    return out
