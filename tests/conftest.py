"""Shared fixtures: the sandbox portal (a real HTTP server) and both storage backends.

Package-specific fixtures live in tests/<package>/conftest.py.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

# Secrets at rest are sealed with a key from the environment (b24app/secretbox.py); every test process
# (and every server a test starts) shares one throwaway key.
if not (os.environ.get("B24APP_ENCRYPTION_KEYS") or os.environ.get("B24APP_ENCRYPTION_KEY")):
    from cryptography.fernet import Fernet

    os.environ["B24APP_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

# This checkout's sandbox (sandbox/b24sandbox, a development package of its own) for the processes tests
# start too, as pyproject's pytest `pythonpath` does for this one — also when the venv's editable install
# belongs to another worktree.
_SANDBOX = str(Path(__file__).resolve().parents[1] / "sandbox")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SANDBOX, os.environ.get("PYTHONPATH")) if p)

PG_ADMIN_URL = os.environ.get("B24APP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def demo_app():
    """app.json in portal terms, what the sandbox's seed="demo" company is shaped for."""
    from install.demo_shape import demo_app

    return demo_app()


@pytest.fixture
def cloud(demo_app):
    from b24sandbox import SandboxCloud
    from b24sandbox.clock import FakeClock

    c = SandboxCloud(clock=FakeClock(), demo_app=demo_app)
    yield c
    c.shutdown()


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="empty")


_TEMPLATES: dict = {}


def _pg_template(admin) -> str:
    """This process's migrated PostgreSQL database, created once and copied for every test (CREATE DATABASE
    … TEMPLATE): migrating a fresh database costs ~0.3 s of server time per test, a copy ~0.03 s. The
    tests of migration itself ask for ``fresh_db_url``."""
    if "postgres" not in _TEMPLATES:
        import atexit

        from b24app.store import create_engine, migrate

        name = f"b24t_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine = create_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
        migrate(engine)
        engine.dispose()                          # a template must have no open connection
        _TEMPLATES["postgres"] = name

        def drop_template():
            import sqlalchemy as sa

            eng = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with eng.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            eng.dispose()

        atexit.register(drop_template)
    return _TEMPLATES["postgres"]


def _pg_database(migrated: bool = True):
    """A PostgreSQL database for one test, dropped afterwards: a copy of the migrated template, or empty."""
    import sqlalchemy as sa

    name = "b24t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    template = f' TEMPLATE "{_pg_template(admin)}"' if migrated else ""
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"{template}')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop():
        with admin.connect() as c:
            c.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()

    return url, drop


def _sqlite_url(tmp_path, migrated: bool = True) -> str:
    """A SQLite file for one test: a copy of this process's migrated template file, or a new empty one."""
    path = tmp_path / "b24app.db"
    if migrated:
        if "sqlite" not in _TEMPLATES:
            import atexit
            import tempfile

            from b24app.store import create_engine, migrate

            folder = tempfile.mkdtemp(prefix="b24t_tpl_")
            atexit.register(shutil.rmtree, folder, True)
            tpl = Path(folder) / "template.db"
            engine = create_engine(f"sqlite:///{tpl}")
            migrate(engine)
            engine.dispose()                      # the last connection checkpoints the WAL into the file
            _TEMPLATES["sqlite"] = tpl
        shutil.copyfile(_TEMPLATES["sqlite"], path)
    return f"sqlite:///{path}"


def _backend_url(request, tmp_path, migrated: bool):
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path, migrated)
        return
    try:
        url, drop = _pg_database(migrated)
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL here"
        if _require("B24APP_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is not reachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    yield url
    drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Both storage backends: a SQLite file and a throwaway PostgreSQL database (already migrated: a copy
    of this process's template; the app migrates it again on open, a no-op)."""
    yield from _backend_url(request, tmp_path, migrated=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_db_url(request, tmp_path):
    """Both backends, empty: for the tests of migrating itself."""
    yield from _backend_url(request, tmp_path, migrated=False)


@pytest.fixture
def sqlite_url(tmp_path):
    """A migrated SQLite file (see ``_sqlite_url``)."""
    return _sqlite_url(tmp_path)


def _require(flag: str) -> bool:
    return os.environ.get(flag, "").strip() in {"1", "true", "yes"}


CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_executable() -> str:
    """Debian's Chromium, or skip the test — fail instead under ``B24APP_REQUIRE_BROWSER=1`` (CI), so a
    browser test can never pass by not running. For tests that launch their own Chromium in a thread."""
    exe = next((p for p in CHROMIUM_CANDIDATES if os.path.exists(p)), None)
    if exe is None:
        if _require("B24APP_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return exe


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under ``B24APP_REQUIRE_BROWSER=1`` a ``browser``-marked test that skips itself (whatever way it
    checks for Chromium) is reported as failed."""
    outcome = yield
    rep = outcome.get_result()
    if (rep.skipped and call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception)
            and item.get_closest_marker("browser") is not None and _require("B24APP_REQUIRE_BROWSER")):
        rep.outcome = "failed"
        rep.longrepr = f"B24APP_REQUIRE_BROWSER=1, but the browser test skipped: {call.excinfo.value}"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (Playwright's own browser download cannot work here)."""
    exe = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=exe,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def artifacts_dir():
    """Screenshots and other test artefacts land in test-artifacts/ (kept by CI logs, ignored by git)."""
    from pathlib import Path

    d = Path(__file__).resolve().parent.parent / "test-artifacts"
    d.mkdir(exist_ok=True)
    return d


def pytest_collection_modifyitems(config, items):
    """Longest first: slow (scale) tests, then browser tests, then the rest. With parallel workers the long
    ones then start at once, side by side, instead of one of them being the last thing a run waits for."""
    def weight(item) -> int:
        if item.get_closest_marker("slow") is not None:
            return 0
        return 1 if item.get_closest_marker("browser") is not None else 2
    items.sort(key=weight)                    # stable: the order within each group is kept
