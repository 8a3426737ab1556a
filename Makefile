# Two commands do all set-up: `make run` (try Frontline) and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# The tests run on SQLite and on this PostgreSQL server (a throw-away database is created).
export FRONTLINE_TEST_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint bench clean

$(BIN)/frontline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/frontline
	$(BIN)/frontline run

test: $(BIN)/frontline
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench: $(BIN)/frontline
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/ledger_scale.py
	$(BIN)/python bench/sqlite_fairness.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis
