# kehoach — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: install run test test-fast lint bench ckan-start ckan-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Build output/ from raw/ and publish it to the local portal folder portal/.
run: install
	$(BIN)/kehoach build

## Everything CI runs: unit, golden and end-to-end tests.
test: install
	$(BIN)/ruff check flows tests scripts
	$(BIN)/python -m pytest

## Unit and golden tests only (no Prefect server, no CKAN).
test-fast: install
	$(BIN)/python -m pytest -m "not prefect and not ckan and not server"

lint: install
	$(BIN)/ruff check flows tests scripts

bench: install
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf output portal .output* .portal* .pytest_cache
