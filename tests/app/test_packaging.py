"""A non-editable install must carry every page and asset: build the wheel the way ``pip install .`` does
and compare it with the source tree (static/maps, static/vendor/leaflet/images, templates/visits, ...)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("b24app", "handlers", "maps", "sync_1c", "install", "visits")
JUNK = shutil.ignore_patterns(".venv", ".git", "tests", "__pycache__", "*.pyc", "build", "*.egg-info",
                              "test-artifacts", "*.db", ".pytest_cache", "bench")


def _data_files() -> set[str]:
    """Every non-Python file inside the packages: what the app reads at run time."""
    out = set()
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*"):
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts:
                out.add(p.relative_to(ROOT).as_posix())
    return out


def test_wheel_carries_every_template_and_asset(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=JUNK)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert "project.license` as a TOML table is deprecated" not in log
    (wheel,) = (tmp_path / "dist").glob("b24app-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _data_files()
    assert {"b24app/static/vendor/leaflet/images/marker-icon.png", "b24app/templates/visits/app.html",
            "b24app/static/maps/orders_map.js", "install/schema.json"} <= expected      # the walk sees them
    assert sorted(expected - names) == []
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in zipfile.ZipFile(wheel).read(metadata).decode()
