# Two commands matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
HOST ?= 127.0.0.1
PORT ?= 8000
export PAPERWIRE_DATA_DIR ?= $(CURDIR)/paperwire-data
# Byte-code caches make repeated test runs start much faster.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test install install-test system-test-deps lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml $(UV)
	$(UV) pip install -q --python $(BIN)/python -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(UV) pip install -q --python $(BIN)/python -e '.[test]'
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Serve the site on the embedded SQLite database (DEMO=1 seeds demo papers).
run: install
	$(BIN)/paperwire serve --host $(HOST) --port $(PORT) $(if $(DEMO),--demo,)

## Chromium and PostgreSQL from Debian, installed only when missing.
system-test-deps:
	@bash scripts/install-system-test-deps.sh

## The whole suite: once on SQLite, once on a real PostgreSQL server.
test: install-test system-test-deps
	PAPERWIRE_TEST_BACKEND=sqlite $(BIN)/python -m pytest -n 2 -q
	PAPERWIRE_TEST_BACKEND=postgres $(BIN)/python -m pytest -n 2 -q

lint: install-test
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
