"""Every server error a person can see is said in Russian and English (issue 14: "the visit date is
required" reached a ru portal's toast in English). Domain code raises the errors handlers/errors.TABLE
answers with ``said(en, ru)``; the edge picks the one of the session's LANG. This walks the source: a raise
of a table error whose message is not ``said(...)`` fails here, naming the file and line.

PENDING lists the packages whose messages are still English only — each one is a known gap, not a pass."""
from __future__ import annotations

import ast
from pathlib import Path

from handlers import errors

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ["maps", "visits", "handlers", "sync_1c", "reports", "field", "b24app/roles.py"]
PENDING = ["desk",                                                 # issue 14: still to translate
           "handlers/desk.py"]
SAYING = {"said", "_bad_body"}                                     # handlers/inputs wraps a body's shape


def _table_names() -> set[str]:
    return {cls.__name__ for cls in errors.TABLE}


def _unsaid(path: Path, names: set[str]) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        f = node.exc.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name not in names or name in ("RoleRequired", "UserSessionExpired", "NotInstalled"):
            continue                                # these word themselves per language / carry ids only
        first = node.exc.args[0] if node.exc.args else None
        said = isinstance(first, ast.Call) and getattr(first.func, "id", "") in SAYING
        if not said:
            out.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return out


def test_errors_people_see_are_said_in_both_languages():
    names = _table_names()
    pending = {ROOT / p for p in PENDING}
    files = [f for pkg in CHECKED
             for f in ([ROOT / pkg] if (ROOT / pkg).is_file() else sorted((ROOT / pkg).rglob("*.py")))]
    assert len(files) > len(CHECKED)
    bad = [u for p in files if p not in pending for u in _unsaid(p, names)]
    assert bad == [], "raise these with said(en, ru):\n" + "\n".join(bad)


def test_the_pending_list_is_honest():
    """A package listed as pending really still has English-only errors (drop it from PENDING when done)."""
    names = _table_names()
    for pkg in PENDING:
        target = ROOT / pkg
        files = [target] if target.is_file() else sorted(target.rglob("*.py"))
        assert [u for p in files for u in _unsaid(p, names)], f"{pkg} is done: move it to CHECKED"
