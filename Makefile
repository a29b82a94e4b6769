# Clinnova: `make run` serves the demo, `make test` runs the suite. Both set up .venv themselves.
VENV := .venv
PY := $(VENV)/bin/python
# The first Python 3.12+ on the PATH (or installed by pyenv), unless PYTHON= is given.
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in python3.13 python3.12 python3 python \
	$$(ls -d $$(pyenv root 2>/dev/null || echo /nonexistent)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
endif
.DEFAULT_GOAL := run
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench loadtest install clean network

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Clinnova needs Python 3.12 or newer on the PATH (or PYTHON=/path/to/python3.12)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

install: $(VENV)/.installed

run: install
	DEBUG=1 $(PY) manage.py migrate --no-input
	DEBUG=1 $(PY) manage.py load_models
	DEBUG=1 $(PY) manage.py load_demo
	DEBUG=1 $(PY) manage.py sweep_scoring_jobs
	@echo ""
	@echo "  Clinnova is running at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password: $${CLINNOVA_DEMO_PASSWORD:-clinnova-demo}):"
	@echo "    clinician-lu, clinician-fr, clinician-de, clinician-ch   (clinicians, one site each)"
	@echo "    modeladmin                                               (model versions; binds a TOTP app with the link above)"
	@echo "    privacy-officer                                          (audit trail; binds a TOTP app with the link above)"
	@echo "  Models are trained on synthetic data and are not for clinical use."
	@echo ""
	DEBUG=1 $(PY) manage.py runserver --noreload $(HOST):$(PORT)

# Slow tests (the real federated engine, long end-to-end runs) are left to CI, which runs
# `make test TEST_MARKERS=` (every test).
TEST_MARKERS ?= not slow
test: install
	$(PY) -m pytest -m "$(TEST_MARKERS)" $(PYTEST_ARGS)

# Against this machine's PostgreSQL and Redis when they run (end to end needs them), else SQLite only.
bench: install
	@if [ -z "$$DATABASE_URL" ] && pg_isready -h 127.0.0.1 -q 2>/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
		createdb -h 127.0.0.1 -U postgres clinnova_bench 2>/dev/null; \
		export DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinnova_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/13; \
	fi; \
	export SECRET_KEY=$${SECRET_KEY:-bench-only-secret-key-not-for-production-0123456789abcdef} HTTPS=0; \
	$(PY) manage.py migrate --no-input -v0 && $(PY) manage.py load_models && $(PY) manage.py bench && $(PY) manage.py bench_import $(BENCH_IMPORT_ARGS)

# Load and fault tests against this machine's PostgreSQL, Redis, gunicorn and Celery (loopback only, bounded).
loadtest: install
	@pg_isready -h 127.0.0.1 -q && redis-cli -h 127.0.0.1 ping >/dev/null || { echo "loadtest needs PostgreSQL and Redis on 127.0.0.1"; exit 1; }
	@createdb -h 127.0.0.1 -U postgres clinnova_loadtest 2>/dev/null; \
	export DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clinnova_loadtest} \
		CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/11} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/10} \
		SECRET_KEY=$${SECRET_KEY:-loadtest-only-secret-key-not-for-production-0123456789abcdef} HTTPS=0; \
	$(PY) manage.py migrate --no-input -v0 && $(PY) manage.py load_models && $(PY) manage.py loadtest $(LOADTEST_ARGS)

# The demo network on this machine: hub, four site nodes (own SQLite databases and accounts), the Flower
# SuperLink and four SuperNodes, on free loopback ports; prints their URLs; Ctrl-C stops everything.
network: install
	DEBUG=1 $(PY) manage.py run_network $(NETWORK_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles network-data
