# Kassa: `make run` serves the shop, `make test` checks it. Both set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
PORT ?= 8000
export PORT

.PHONY: help install run serve test test-fast test-postgres lint format typecheck check-browser clean lint-deploy check-deploy test-deploy bench

help:
	@echo "make run            set up and serve the shop on http://127.0.0.1:$(PORT)/"
	@echo "make test           lint, type-check and run the whole test suite (SQLite)"
	@echo "make test-fast      the suite without tests/system/ (no real servers or browser): the quick loop"
	@echo "make test-postgres  the test suite against PostgreSQL (DATABASE_URL or 127.0.0.1:5432/test),"
	@echo "                    but for what runs the same on any database (make test runs that)"
	@echo "make format         format the code"
	@echo "make lint-deploy    lint the Dockerfile (hadolint) and validate compose.yaml"
	@echo "make check-deploy   manage.py check --deploy with the production settings"
	@echo "make test-deploy    build the image and run compose.yaml for real (root or Docker; minutes)"
	@echo "make bench          load-test the shop as production runs it (PostgreSQL, fake Stripe)"

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Kassa needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	@# Once more on failure: a download cut short should not fail a fresh clone's first run.
	$(PY) -m pip install --quiet -e '.[dev]' || $(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Compiled translations are built from the .po sources, never committed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(VENV)/.installed
	$(BIN)/pybabel compile --domain django --directory locale --locale $* --statistics

install: $(VENV)/.installed $(MO_FILES)

run: install
	@$(PY) scripts/ensure_local_secret.py
	$(MANAGE) migrate --noinput
	$(MANAGE) ensure_superuser
	$(MANAGE) ensure_groups
	$(MANAGE) seed_demo
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo
	@echo "  Kassa is running at http://127.0.0.1:$(PORT)/   (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "  Mail goes out through the worker beside it (EMAIL_URL; printed here by default)."
	@echo
	exec bash scripts/serve.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy .

check-browser:
	@bash scripts/ensure_chromium.sh

test: install lint typecheck check-browser
	$(BIN)/pytest -p no:cacheprovider

test-fast: install
	$(BIN)/pytest -p no:cacheprovider -m "not system"

# Not the tests marked db_independent: they run the shop on databases of their own (throwaway
# PostgreSQL ones, SQLite files) or none, whatever the suite's, so `make test` has run them.
test-postgres: install check-browser
	DATABASE_URL=$${DATABASE_URL:-postgres://127.0.0.1:5432/test} $(BIN)/pytest -p no:cacheprovider -m "not deploy and not db_independent"

# The container path, without a Docker engine: the Dockerfile and compose.yaml are lint-clean.
lint-deploy: install
	$(BIN)/hadolint Dockerfile
	bash scripts/check_compose.sh

# The deployment run for real: Docker (started here if none answers), the base images (local
# stand-ins where no registry answers), the image from the Dockerfile, compose.yaml with three
# replicas, and tests/system's deploy tests against it; all of it removed again at the end.
test-deploy: install
	bash scripts/test_deploy.sh

# Django's deployment checklist with the documented production settings (docker/production.env),
# a throwaway secret key and placeholder Stripe keys (without keys the shop runs demo payments,
# which the checklist refuses); any warning fails.
check-deploy: install
	set -a && . docker/production.env && set +a && \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	STRIPE_API_KEY=$${STRIPE_API_KEY:-sk_test_placeholder} \
	STRIPE_PUBLISHABLE_KEY=$${STRIPE_PUBLISHABLE_KEY:-pk_test_placeholder} \
	$(MANAGE) check --deploy --fail-level WARNING

# The shop under load with production's app server and settings, on a throwaway PostgreSQL
# database, against a fake Stripe (BENCH_ARGS="--latency 0.5", see `python -m bench.run -h`).
bench: install
	@bash scripts/ensure_wrk.sh
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache .pytest_cache
