# One-command setup. Everything lives in .venv, created with uv; a second run reuses it and reinstalls
# only when requirements.txt has changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# uv from PATH when there is one, else the copy bootstrapped into .venv (evaluated when used).
UV = $(shell command -v uv 2>/dev/null || echo $(VENV)/bin/uv)
INSTALLED := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DIR ?= data/demo

.PHONY: install demo serve serve-prod test test-postgres lint format clean

install: $(INSTALLED)

$(PY):
	@if command -v uv >/dev/null 2>&1; then \
		uv venv --quiet --python $(PYTHON) $(VENV); \
	else \
		echo "uv not found: bootstrapping it into $(VENV)"; \
		$(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"; exit 1; }; \
		$(VENV)/bin/python -m pip install --quiet uv; \
	fi

$(INSTALLED): requirements.txt | $(PY)
	$(UV) pip install --python $(PY) -r requirements.txt
	@touch $@

# The whole pipeline on the embedded default (studyapp/demo.py): every step reuses what exists, so a
# second run reaches the server within a minute. SAMPLE=1 samples the test clips here with the shipped
# checkpoints instead of using their shipped soundtracks; TRAIN=1 trains the models here too (on the
# GPU when there is one).
demo: $(INSTALLED)
	$(PY) manage.py migrate --noinput --verbosity 0
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py demo --root $(DEMO_DIR) --host $(HOST):$(PORT) $(if $(TRAIN),--train) $(if $(SAMPLE),--sample)
	@$(MAKE) --no-print-directory serve

serve: $(INSTALLED)
	@echo "vis2sound is serving at http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/; Ctrl-C stops)"
	@echo "Another admin account: $(PY) manage.py createsuperuser"
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# Production: gunicorn (gunicorn.conf.py: 2 workers per core × 4 threads), static files by whitenoise,
# the database from DATABASE_URL (PostgreSQL for a real crowd), media streamed by the app or, with
# MEDIA_ACCEL_REDIRECT set, by nginx (deploy/nginx.conf). `check --deploy` lists what to fix first.
serve-prod: $(INSTALLED)
	$(PY) manage.py migrate --noinput --verbosity 0
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py check --deploy
	@echo "vis2sound (gunicorn) at http://$(HOST):$(PORT)/ on $${DATABASE_URL:+$${DATABASE_URL%%:*}}$${DATABASE_URL:-SQLite}"
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT)

test: $(INSTALLED)
	$(PY) -m pytest
	@$(MAKE) --no-print-directory test-postgres

# The database-touching tests again, on a real PostgreSQL server. .ci/run starts one and sets
# TEST_DATABASE_URL; point it at your own to run this pass locally (the role needs CREATEDB).
test-postgres: $(INSTALLED)
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
		echo "=== PostgreSQL pass SKIPPED: TEST_DATABASE_URL is not set and no server was started ==="; \
		echo "=== (bash .ci/run starts one when run as root; or: TEST_DATABASE_URL=postgres://user:pass@host:5432/db make test-postgres)"; \
	else \
		echo "=== PostgreSQL pass: database tests against $${TEST_DATABASE_URL#*@} ==="; \
		DATABASE_URL="$$TEST_DATABASE_URL" $(PY) -m pytest -m database; \
	fi

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
