# The two commands: `make run` (the portal with demo data) and `make test` (lint + SQLite + PostgreSQL).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench backup-check prod-check format clean

run: $(VENV)/.run-deps
	VENV=$(VENV) ./scripts/run.sh

test: $(VENV)/.dev-deps
	VENV=$(VENV) ./scripts/test.sh $(ARGS)

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.dev-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pg_dump of a demo database, pg_restore into a fresh cluster, the portal started on it (not in `make test`).
backup-check: $(VENV)/.run-deps
	VENV=$(VENV) ./scripts/backup_restore_check.sh

# The production rehearsal: 2 web nodes, 3 clusters on Redis, PostgreSQL, load and faults (not in `make test`).
prod-check: $(VENV)/.run-deps
	VENV=$(VENV) ./scripts/prod_check.sh

bench: $(VENV)/.run-deps
	VENV=$(VENV) ./scripts/bench.sh $(ARGS)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: $(BIN)/python requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(VENV)/.run-deps

clean:
	rm -rf $(VENV) staticfiles
