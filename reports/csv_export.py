"""A report table as a CSV file Excel opens right: UTF-8 with a BOM (else Excel reads Cyrillic as
cp1251), ``;`` between cells (the list separator of Russian Excel, where ``,`` is the decimal mark),
CRLF line ends; decimals with a comma for ru, a dot for en. A portal text cell starting with = + - @
gets a leading apostrophe, so Excel never runs it as a formula."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from b24app.i18n import lang_of
from calcwork.documents import xlsx

from .strings import COLUMNS, strings

SEPARATOR = ";"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
        return text.replace(".", ",") if lang == "ru" else text
    if isinstance(value, float):
        text = f"{value:g}" if value == int(value) else f"{value:.1f}"
        return text.replace(".", ",") if lang == "ru" else text
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def table_csv(table: str, rows: list[dict], lang: str | None, totals: dict | None = None) -> bytes:
    """``table``: one of reports.strings.COLUMNS (regions, employees, trend, types, sales, jobs)."""
    lang = lang_of(lang)
    out = io.StringIO()
    w = csv.writer(out, delimiter=SEPARATOR, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in table_rows(table, rows, lang, totals):
        w.writerow([_cell(v, lang) for v in row])
    return "\ufeff".encode("utf-8") + out.getvalue().encode("utf-8")


def table_rows(table: str, rows: list[dict], lang: str | None, totals: dict | None = None) -> list[list]:
    """The header, the rows and the totals line of one table as plain values (CSV and XLSX both)."""
    lang = lang_of(lang)
    s, cols = strings(lang), COLUMNS[table]
    out = [[s[label] for _, label in cols]]
    for r in rows:
        values = dict(r)
        if table == "regions" and not values.get("region"):
            values["region"] = s["no_region"]
        out.append([values.get(key) for key, _ in cols])
    if totals:
        out.append([s["totals"]] + [totals.get(key) for key, _ in cols[1:]])
    return out


def table_xlsx(table: str, rows: list[dict], lang: str | None, totals: dict | None = None) -> bytes:
    """The same table as an .xlsx sheet (calcwork's writer: strings inline, numbers as numbers)."""
    body = [[_xlsx_cell(v) for v in row] for row in table_rows(table, rows, lang, totals)]
    return xlsx(strings(lang).get(TITLES.get(table, ""), table), body)


TITLES = {"regions": "visits.by_region", "employees": "visits.by_employee", "trend": "trend", "types": "types",
          "sales": "sales.by_employee", "jobs": "jobs.by_worker"}


def _xlsx_cell(v):
    if isinstance(v, bool):
        return int(v)
    return v                      # an inline string is never a formula: no guard needed
