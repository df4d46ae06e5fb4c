"""A report table as a CSV file Excel opens right: UTF-8 with a BOM (else Excel reads Cyrillic as
cp1251), ``;`` between cells (the list separator of Russian Excel, where ``,`` is the decimal mark),
CRLF line ends; decimals with a comma for ru, a dot for en. A portal text cell starting with = + - @
gets a leading apostrophe, so Excel never runs it as a formula."""
from __future__ import annotations

import csv
import io

from b24app.i18n import lang_of

from .strings import COLUMNS, strings

SEPARATOR = ";"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        text = f"{value:g}" if value == int(value) else f"{value:.1f}"
        return text.replace(".", ",") if lang == "ru" else text
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def table_csv(table: str, rows: list[dict], lang: str | None, totals: dict | None = None) -> bytes:
    """``table``: regions | employees | jobs (reports.strings.COLUMNS)."""
    lang = lang_of(lang)
    s, cols = strings(lang), COLUMNS[table]
    out = io.StringIO()
    w = csv.writer(out, delimiter=SEPARATOR, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([s[label] for _, label in cols])
    for r in rows:
        values = dict(r)
        if table == "regions" and not values.get("region"):
            values["region"] = s["no_region"]
        w.writerow([_cell(values.get(key), lang) for key, _ in cols])
    if totals:
        w.writerow([s["totals"]] + [_cell(totals.get(key), lang) for key, _ in cols[1:]])
    return "\ufeff".encode("utf-8") + out.getvalue().encode("utf-8")
