"""Order numbers as people type them vs as 1C stores them.

1C (УТ/ERP/КА) stores `ЗаказКлиента.Number` as String(11): an infobase/organisation prefix, a dash, a
zero-padded counter (`ТД00-000123`, `УТ-00001004`), **unique per year** — the counter restarts every
January, so `ТД00-000123` of 2025 and of 2026 are two different orders (1c-odata.md §1.8, §3.5). A manager
copying the number into a Bitrix24 deal types `тд00 000123`, `TД00-123` (Latin T), `№ 123`, …

So a number alone is never an order identity: the match key is (counter, year of the order date), plus
the prefix when both sides have one. Ambiguity is the caller's to resolve (manual queue, never guess).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

# Latin letters that look like Cyrillic ones, mapped to the Cyrillic letter (1C prefixes are normally
# Cyrillic; a base with genuinely Latin prefixes still compares equal because both sides are mapped).
_LOOKALIKES = str.maketrans({
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О", "P": "Р",
    "T": "Т", "X": "Х", "Y": "У", "Ё": "Е",
})
_DASHES = re.compile(r"[\u2010-\u2015\u2212_/\\.]")
_SPACES = re.compile(r"\s+")
_NUMBER_SIGN = re.compile(r"^(?:№|#|N[OО]?\.?(?=[\s\d]))\s*", re.I)
_SPLIT = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)$")


def normalize(raw: str) -> str:
    """Canonical spelling for comparison: trimmed, upper-case, Latin look-alikes → Cyrillic, spaces and
    every dash-like separator → one `-`, a leading `№`/`N`/`#` dropped. Not for sending back to 1C."""
    s = _NUMBER_SIGN.sub("", str(raw).strip())
    s = s.upper().translate(_LOOKALIKES)
    s = _DASHES.sub("-", _SPACES.sub("-", s))
    return re.sub("-+", "-", s).strip("-")


@dataclass(frozen=True)
class OrderNumber:
    """A parsed number: `prefix` (normalised, dash-free, may be empty) and `counter` (digits, no leading
    zeros; "0" for an all-zero counter)."""

    prefix: str
    counter: str

    def compatible(self, other: "OrderNumber") -> bool:
        """Same counter, and the prefixes agree where both sides have one (a bare `123` typed by a human
        matches `ТД00-000123`; `ТД00-…` and `УТ-…` never match each other). Trailing zeros of a prefix are
        ignored because without a dash they cannot be told from counter padding (`ТД00000123`)."""
        if self.counter != other.counter:
            return False
        a, b = self.prefix.rstrip("0"), other.prefix.rstrip("0")
        return not a or not b or a == b


def parse(raw: str) -> OrderNumber:
    """Split into prefix and counter. The counter is the trailing digit run: for `ТД00-000123` the
    `00` belongs to the prefix because the dash separates them; with no dash (`ТД00000123`) the prefix is
    the letters only and the zeros are absorbed by the counter — both give counter "123"."""
    s = normalize(raw)
    if not s:
        raise ValueError(f"empty order number: {raw!r}")
    if "-" in s:
        head, _, tail = s.rpartition("-")
        if tail.isdigit():
            return OrderNumber(prefix=head.replace("-", ""), counter=tail.lstrip("0") or "0")
    flat = s.replace("-", "")
    letters = re.match(r"^\D*", flat).group(0)
    rest = flat[len(letters):]
    if rest.isdigit() and rest:
        return OrderNumber(prefix=letters, counter=rest.lstrip("0") or "0")
    m = _SPLIT.match(flat)
    if not m:
        raise ValueError(f"order number has no digits at the end: {raw!r}")
    return OrderNumber(prefix=m.group("prefix"), counter=m.group("digits").lstrip("0") or "0")


def _year(when: date | datetime | int | None) -> int | None:
    if when is None:
        return None
    if isinstance(when, int):
        return when
    return when.year


def match_key(raw: str, order_date: date | datetime | int | None, *, restarts_yearly: bool = True,
              with_prefix: bool = False) -> tuple:
    """A hashable key under which one order is found: `(counter, year)` — or `(prefix, counter, year)`
    with `with_prefix` — with the year only when the numbering restarts yearly (the 1C default,
    `numberPeriodicity Year`). A yearly key without a date is refused: it would merge two orders.

    `order_date` is the order's date as 1C shows it (local wall-clock). A year boundary in 1C is local
    time, so pass the local date, not a UTC one (31 Dec 22:30 UTC is already 1 Jan in Moscow).
    """
    n = parse(raw)
    year = _year(order_date) if restarts_yearly else None
    if restarts_yearly and year is None:
        raise ValueError("numbers restart yearly: the order date (or year) is needed to tell orders apart")
    return (n.prefix.rstrip("0"), n.counter, year) if with_prefix else (n.counter, year)


def same_order(a: str, a_date, b: str, b_date, *, restarts_yearly: bool = True) -> bool:
    """True when two (number, date) pairs denote the same order under the rules above."""
    if restarts_yearly and _year(a_date) != _year(b_date):
        return False
    return parse(a).compatible(parse(b))


def year_window(year: int) -> tuple[datetime, datetime]:
    """`[1 Jan, next 1 Jan)` as naive local datetimes, for `Date ge … and Date lt …` (sargable, unlike
    `year(Date) eq …`, 1c-odata.md §1.7)."""
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)
