# Two commands do all set-up: `make run` (try Frontline) and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Every install takes the versions and hashes in this file; `make lock` refreshes it.
LOCK := requirements.lock
# The PostgreSQL half runs on the server FRONTLINE_TEST_POSTGRES names, else on one at
# 127.0.0.1:5432, else on a throw-away cluster from the machine's PostgreSQL binaries;
# with none, the run says so and passes on SQLite (tests/postgres_server.py).
# Two test processes per core: much of a test's time is spent waiting on another
# process (a server, a CLI run, the database), and the other process fills it.
JOBS ?= $(shell echo $$(( 2 * $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2) )))
PYTEST := $(BIN)/pytest -n $(JOBS)
# The many `frontline` processes the tests start load compiled modules, not sources.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-fast docs lock bench bench-smoke clean

$(BIN)/frontline: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

run: $(BIN)/frontline
	$(BIN)/frontline run

# Everything: both stores, real HTTP, the browser.
test: $(BIN)/frontline docs
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(PYTEST) --durations=15

# The edit loop: SQLite only, no browser, no test that starts Frontline processes.
test-fast: $(BIN)/frontline
	$(PYTEST) -m "not postgres and not browser and not slow"

# The docs site, built strictly: a broken link or anchor fails (`mkdocs serve` to read it).
docs: $(BIN)/frontline
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

lock: $(BIN)/frontline
	$(BIN)/pip install --quiet uv==0.13.8
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --quiet -o $(LOCK)

bench: $(BIN)/frontline
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/ledger_scale.py
	$(BIN)/python bench/sqlite_fairness.py

BENCHES := pipeline ledger_scale sqlite_fairness voices slack_ack bolt_inprocess workers org_scale fanout db_move recovery

# Each benchmark at a size of seconds, so that none rots: it must finish and print its table.
bench-smoke: $(BIN)/frontline
	for bench in $(BENCHES); do echo "== bench/$$bench.py --smoke"; \
		$(BIN)/python bench/$$bench.py --smoke || exit 1; done
	$(BIN)/python bench/slack_ack.py --sustained --smoke

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis site
