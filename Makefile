# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORTAL_PORT ?= 8024
APP_PORT ?= 8025
# Parallel test processes: the suite waits on loopback servers and Chromium more than on the CPU, so more
# workers than cores pays (measured in bench/RESULTS.md, "make test").
TEST_WORKERS ?= 4

.PHONY: venv demo test test-fast bench chromium clean

# The product and, beside it, the sandbox (sandbox/: Bitrix24 + 1C emulators, not in the product's wheel).
$(STAMP): pyproject.toml sandbox/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' -e ./sandbox
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium is not installed: browser tests will be skipped"

demo: venv
	$(BIN)/b24app demo --host $(HOST) --portal-port $(PORTAL_PORT) --app-port $(APP_PORT)

# The linter first (config: pyproject.toml [tool.ruff]): a lint error fails make test, and so CI.
test: venv chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

test-fast: venv
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not browser and not slow"

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
