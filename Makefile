# The two commands a fresh machine needs (see README):
#   make demo   - install into .venv, generate a demo city-year, run the main job end to end on DuckDB,
#                 and build the public site and data cards (Chromium, a Debian package, prints the PDFs)
#   make test   - install into .venv and run the whole test suite (CI runs exactly this, after make lint)
#   make site   - rebuild the public site from the current serving copy and open it
#   make lint   - ruff (Python) and SQLFluff (dbt SQL, DuckDB dialect); pre-commit runs the same
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: setup demo site screenshots land dev test lint format postgres bench bench-main docs dbt dbt-docs lock clean

$(INSTALLED): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(INSTALLED)

# the dbt manifest the Dagster definitions load (dagster dev re-parses by itself)
setup: $(INSTALLED)
	$(PY) -m orchestration prepare

# style, enforced: Python by ruff (lint and format), dbt SQL by SQLFluff (.sqlfluff)
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/tests --processes 2

# rewrite what the linters can fix by themselves
format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/sqlfluff fix dbt_project/models dbt_project/tests --processes 2

demo: $(INSTALLED)
	bash scripts/browser_setup.sh
	$(PY) -m orchestration demo $(ARGS)

# the public site and data cards, rebuilt from the current serving copy, then opened
site: $(INSTALLED)
	bash scripts/browser_setup.sh
	$(PY) -m orchestration site --open

# docs/screenshots/ from the site the last `make demo` published (linked from the README)
screenshots: $(INSTALLED)
	bash scripts/browser_setup.sh
	$(PY) scripts/site_screenshots.py

land: $(INSTALLED)
	$(PY) -m orchestration land $(ARGS)

dev: setup
	$(PY) -m orchestration dev

# The suite needs a PostgreSQL server: a local one is installed/started by scripts/postgres_setup.sh
# (database alt911_test); set ALT911_PG_* to use another. The browser tests need Chromium
# (scripts/browser_setup.sh installs the Debian package). Test files run on TEST_WORKERS processes
# (pytest-xdist, one file per worker so a file's shared fixtures are built once): most of a test is
# one dbt or Python process, so two workers keep both cores busy. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: $(INSTALLED)
	ALT911_PG_DATABASE=$${ALT911_PG_DATABASE:-alt911_test} bash scripts/postgres_setup.sh
	bash scripts/browser_setup.sh
	ALT911_PG_DATABASE=$${ALT911_PG_DATABASE:-alt911_test} $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

# A local PostgreSQL server for BI serving (database alt911): then `ALT911_PUBLISH_POSTGRES=true make demo`.
postgres:
	bash scripts/postgres_setup.sh

bench: $(INSTALLED)
	$(PY) bench/bench.py $(ARGS)

# the main job publishes the site and its PDF cards: Chromium (a Debian package) prints them
bench-main: $(INSTALLED)
	bash scripts/browser_setup.sh
	$(PY) bench/bench_main_job.py $(ARGS)

docs: $(INSTALLED)
	$(PY) -m orchestration.contract --render

dbt: $(INSTALLED)
	$(PY) -m orchestration dbt $(ARGS)

dbt-docs: $(INSTALLED)
	$(PY) -m orchestration dbt docs generate

lock: $(INSTALLED)
	$(PY) -m pip freeze --exclude-editable | { echo '# Full pinned set, resolved on Python 3.11 from PyPI (pip install -c requirements.lock -e ".[dev]").'; echo '# Regenerate with: make lock'; cat; } > requirements.lock

clean:
	rm -rf data .pytest_cache dbt_project/target dbt_project/logs
