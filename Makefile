# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/dailypapers serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/import.py

clean:
	rm -rf $(VENV) var dailypapers.db dailypapers.db-wal dailypapers.db-shm
