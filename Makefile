# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed

# The test run's own environment: production-like settings (DEBUG off) against the emulator.
TEST_ENV := SECRET_KEY=test-only-secret-key RAILZ_EMULATOR=1 SECURE_SSL_REDIRECT=0 \
	SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0 DEBUG=0
RUN_ENV := DEBUG=1
PYTEST_ARGS ?=

.PHONY: run test lint format bench install lock clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: install
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py demo_setup
	$(RUN_ENV) $(PY) manage.py serve

test: install
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Each benchmark prints its figures and keeps nothing (scratch databases, or a rolled-back
# transaction for bench_lines).
bench: install
	$(RUN_ENV) $(PY) manage.py bench_sync --customers 100000
	$(RUN_ENV) $(PY) manage.py bench_push --invoices 500 --connections 5 --workers 2
	$(RUN_ENV) $(PY) manage.py bench_pages --scale 0.1 --runs 5
	$(RUN_ENV) $(PY) manage.py bench_batch --customers 1000 --journal-entries 1000 --workers 2
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py bench_lines
	$(RUN_ENV) $(PY) manage.py bench_sheets

# Regenerates the hashed lock from pyproject.toml.
lock: install
	$(UV) pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		-o requirements.lock --quiet

clean:
	rm -rf $(VENV) var
