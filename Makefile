# The two commands that matter: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# One stamp per install set, so `make run` does not pull in the test tools (browser driver, servers).
STAMP := $(VENV)/.installed-run
SCALE_STAMP := $(VENV)/.installed-scale
TEST_STAMP := $(VENV)/.installed-test
PIP_INSTALL = $(PY) -m pip install --quiet --config-settings editable_mode=compat -e
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-pg lint install env bench clean worker scheduler

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP_INSTALL) .
	touch $@

$(SCALE_STAMP): pyproject.toml | $(PY)
	$(PIP_INSTALL) '.[scale]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PIP_INSTALL) '.[test]'
	touch $@ $(STAMP) $(SCALE_STAMP)

install: $(STAMP)

# .env with fresh secrets, made once; existing values are never overwritten.
.env: | $(STAMP)
	$(PY) -m connector.envfile .env.example .env

env: .env

# The app is told where it listens (HOST, PORT): with APP_URL empty its links point there, and the
# sandbox store posts its webhooks there (APP_URL may be a public tunnel). See .env.example.
SERVED := HOST=$(HOST) PORT=$(PORT)

run: $(STAMP) .env
	ALLOW_PRIVATE_STORE_ADDRESSES=$${ALLOW_PRIVATE_STORE_ADDRESSES:-1} $(SERVED) $(VENV)/bin/gunicorn wsgi:app --bind $(HOST):$(PORT) \
		--workers 1 --threads 8 --timeout 60 --access-logfile -

test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit and integration tests again, each on a fresh database of a throw-away PostgreSQL server.
test-pg: $(TEST_STAMP)
	CONNECTOR_TEST_DATABASE=postgresql $(PY) -m pytest tests/unit tests/integration $(PYTEST_ARGS)

# Production shape (README, "Production"): Celery workers and the one scheduler process.
# Both need CELERY_BROKER_URL and DATABASE_URL (PostgreSQL) in the environment or .env.
worker: $(SCALE_STAMP) .env
	$(SERVED) $(VENV)/bin/celery -A connector.tasks worker --loglevel=INFO --concurrency=$${WORKER_CONCURRENCY:-4}

scheduler: $(SCALE_STAMP) .env
	$(SERVED) $(VENV)/bin/flask --app connector.web:create_cli_app scheduler

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -c pyproject.toml -q -r connector adapters

bench: $(TEST_STAMP)
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/intake.py
	$(PY) benchmarks/shopify_normalise.py
	$(PY) benchmarks/planning.py
	$(PY) benchmarks/flash_sale.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
