"""A non-editable install must carry every page and asset: build the wheel the way ``pip install .`` does
and compare it with the source tree (static/maps, static/vendor/leaflet/images, templates/visits, ...)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel ``pip install .`` would build, from a clean copy of the tree; (path, build log)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=JUNK)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp / "dist"), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (whl,) = (tmp / "dist").glob("b24app-*.whl")
    return whl, r.stdout + r.stderr


def test_wheel_carries_every_template_and_asset(wheel):
    wheel, log = wheel
    assert "project.license` as a TOML table is deprecated" not in log
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _data_files()
    assert {"b24app/static/vendor/leaflet/images/marker-icon.png", "b24app/templates/visits/app.html",
            "b24app/static/maps/orders_map.js", "install/schema.json"} <= expected      # the walk sees them
    assert sorted(expected - names) == []
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_wheel_carries_app_json_and_an_installed_copy_loads_it(wheel, tmp_path):
    """app.json sits at the repository root, yet a non-editable install must find it: the wheel carries it
    in ``install/`` byte for byte, and install.manifest imported from an installed copy loads that one."""
    wheel, _ = wheel
    packed = zipfile.ZipFile(wheel).read("install/app.json")
    assert packed == (ROOT / "app.json").read_bytes()
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target),
                        str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    probe = ("import json, install.manifest as m; man = m.load(); "
             "print(json.dumps({'module': m.__file__, 'file': str(m.manifest_path()), 'version': man.version, "
             "'robots': sorted(x['code'] for x in man.robots)}))")

    def installed(**env):
        # From an empty directory, the installed copy first on sys.path (before the editable checkout).
        r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                           cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(target), **env})
        assert r.returncode == 0, r.stderr[-3000:]
        return json.loads(r.stdout)

    shipped = json.loads((ROOT / "app.json").read_text(encoding="utf-8"))
    got = installed()
    assert Path(got["module"]).resolve().is_relative_to(target.resolve())
    assert Path(got["file"]).resolve() == (target / "install" / "app.json").resolve()
    assert got["version"] == shipped["version"]
    assert got["robots"] == sorted(r["code"] for r in shipped["robots"])

    # An integrator's own manifest through B24APP_MANIFEST: one robot fewer, read instead of the shipped one.
    own = dict(shipped, robots=shipped["robots"][1:])
    (tmp_path / "own.json").write_text(json.dumps(own, ensure_ascii=False), encoding="utf-8")
    got = installed(B24APP_MANIFEST=str(tmp_path / "own.json"))
    assert got["file"] == str(tmp_path / "own.json")
    assert got["robots"] == sorted(r["code"] for r in shipped["robots"][1:])


def test_sdist_carries_app_json_and_its_wheel_does_too(tmp_path):
    """``python -m build`` goes source tree → sdist → wheel: app.json must survive both steps."""
    import tarfile

    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=JUNK)
    # the build backend pyproject.toml asks for (the venv's own setuptools may be older), as pip would use it
    backend = tmp_path / "backend"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(backend), "setuptools>=77",
                        "wheel"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "sdist")], cwd=src, capture_output=True,
                       text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(backend)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    sdist = tmp_path / "sdist" / r.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        assert f"{top}/app.json" in tar.getnames() and f"{top}/setup.py" in tar.getnames()
        tar.extractall(tmp_path / "unpacked", filter="data")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"),
                        str(tmp_path / "unpacked" / top)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (whl,) = (tmp_path / "dist").glob("b24app-*.whl")
    assert zipfile.ZipFile(whl).read("install/app.json") == (ROOT / "app.json").read_bytes()
