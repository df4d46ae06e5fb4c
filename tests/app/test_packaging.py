"""A non-editable install must carry every page and asset: build the wheel the way ``pip install .`` does
and compare it with the source tree (static/maps, static/vendor/leaflet/images, templates/visits, ...)."""
from __future__ import annotations

import json
import os
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


@pytest.fixture(scope="session")
def build_backend(tmp_path_factory) -> Path:
    """The build requirements pyproject.toml names (``setuptools>=77``, ``wheel``; the venv's own setuptools
    may be older), installed once: every build below runs that backend, as pip's isolated build would,
    without pip making and filling a fresh isolated environment for each one."""
    backend = tmp_path_factory.mktemp("backend")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(backend), "setuptools>=77",
                        "wheel"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return backend


def _pip_wheel(src: Path, dist: Path, backend: Path) -> subprocess.CompletedProcess:
    """``pip wheel`` of a source tree with the build backend above (``--no-build-isolation``)."""
    env = {**os.environ, "PYTHONPATH": str(backend)}
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(dist), str(src)], capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, build_backend):
    """The wheel ``pip install .`` would build, from a clean copy of the tree; (path, build log)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=JUNK)
    r = _pip_wheel(src, tmp / "dist", build_backend)
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


def test_sdist_carries_app_json_and_its_wheel_does_too(tmp_path, build_backend):
    """``python -m build`` goes source tree → sdist → wheel: app.json must survive both steps."""
    import tarfile

    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=JUNK)
    backend = build_backend
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "sdist")], cwd=src, capture_output=True,
                       text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(backend)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    sdist = tmp_path / "sdist" / r.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        assert f"{top}/app.json" in tar.getnames() and f"{top}/setup.py" in tar.getnames()
        tar.extractall(tmp_path / "unpacked", filter="data")
    r = _pip_wheel(tmp_path / "unpacked" / top, tmp_path / "dist", backend)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (whl,) = (tmp_path / "dist").glob("b24app-*.whl")
    assert zipfile.ZipFile(whl).read("install/app.json") == (ROOT / "app.json").read_bytes()


# --- the emulators are not the product ------------------------------------------------------------------
PRODUCT = {"b24app", "handlers", "maps", "sync_1c", "install", "visits", "reports", "desk", "calcwork", "rules",
           "field"}
SANDBOX = ROOT / "sandbox"


def test_product_wheel_has_no_emulator_but_every_page(wheel):
    """sandbox/ is its own distribution (b24sandbox): the product's wheel has neither emulator, yet keeps
    app.json, its pages and their assets."""
    wheel, _ = wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [n for n in names if "sandbox" in n.lower() or "onec" in n.lower()]
    assert {n.split("/")[0] for n in names if "/" in n and not n.split("/")[0].endswith(".dist-info")} <= PRODUCT
    assert {"install/app.json", "b24app/templates/main.html", "b24app/static/maps/orders_map.js",
            "b24app/phpform.py", "b24app/store/alembic.ini"} <= names


def test_installed_product_runs_without_the_sandbox(wheel, tmp_path):
    """From the wheel alone (b24sandbox made unimportable): the app imports and builds, and
    ``b24app sandbox`` / ``b24app demo`` say how to get the emulator instead of a traceback."""
    wheel, _ = wheel
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target),
                        str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    probe = ("import sys; sys.modules['b24sandbox'] = None\n"
             "import b24app.app, b24app.cli, b24app.domains, b24app.phpform, install.apply, install.demo_shape\n"
             "assert b24app.__file__.startswith(sys.argv[1]), b24app.__file__\n"
             "from b24app.cli import main\n"
             "main([sys.argv[2]])\n")
    for command in ("sandbox", "demo"):
        r = subprocess.run([sys.executable, "-c", probe, str(target), command], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(target)})
        assert r.returncode == 1, (command, r.stdout[-2000:], r.stderr[-3000:])
        assert "the sandbox portal is not installed" in r.stderr and "pip install -e ./sandbox" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_sandbox_wheel_carries_both_emulators_and_their_pages(tmp_path, build_backend):
    """The b24sandbox distribution (sandbox/pyproject.toml): the Bitrix24 emulator with its templates and
    bx24.js, the 1C emulator beside it, nothing of the product."""
    src = tmp_path / "src"
    shutil.copytree(SANDBOX, src, ignore=JUNK)           # a clean copy: building in place leaves build/ behind
    r = _pip_wheel(src, tmp_path / "dist", build_backend)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (whl,) = (tmp_path / "dist").glob("b24sandbox-*.whl")
    names = set(zipfile.ZipFile(whl).namelist())
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"b24sandbox"}, tops
    pages = {p.relative_to(SANDBOX).as_posix() for p in (SANDBOX / "b24sandbox").rglob("*")
             if p.is_file() and p.suffix in (".html", ".js")}
    assert "b24sandbox/static/bx24.js" in pages and "b24sandbox/templates/layout.html" in pages
    assert pages <= names and {"b24sandbox/onec/__init__.py", "b24sandbox/onec/server.py"} <= names


def _imports(path: Path) -> set[str]:
    import ast

    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_the_sandbox_uses_one_product_module_and_the_product_none_of_the_sandbox():
    """The emulator imports only the PHP-form codec (b24app.phpform) of the product; the product reaches the
    emulator only from the ``sandbox``/``demo`` commands (b24app/cli.py), which check it is there first."""
    for path in (SANDBOX / "b24sandbox").rglob("*.py"):
        for name in _imports(path):
            if name.split(".")[0] in PRODUCT:
                assert name == "b24app.phpform", (path.relative_to(ROOT).as_posix(), name)
    users = sorted(p.relative_to(ROOT).as_posix() for pkg in PRODUCT for p in (ROOT / pkg).rglob("*.py")
                   if any(n.split(".")[0] == "b24sandbox" for n in _imports(p)))
    assert users == ["b24app/cli.py"]
