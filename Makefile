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

.PHONY: run test test-pg lint install env bench clean worker scheduler woocommerce-plugin woocommerce-pot theme-check-tools

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

test: $(TEST_STAMP) theme-check-tools
	$(PY) -m pytest $(PYTEST_ARGS)

# Shopify's theme-check for extensions/backorder-eta (tests/unit/test_theme_extension.py runs it):
# installed once from the lockfile with npm; it then runs offline (its Liquid docs are bundled).
theme-check-tools:
	@if command -v npm >/dev/null 2>&1; then \
		[ -d tools/theme-check/node_modules/@shopify/theme-check-node ] || \
		npm ci --prefix tools/theme-check --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the theme-check test is skipped (fails under CI=true)"; fi

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
	$(PY) benchmarks/nightly_plan.py
	$(PY) benchmarks/flash_sale.py
	$(PY) benchmarks/flash_pipe.py

# The WordPress plugin as the zip a merchant uploads (Plugins -> Add New -> Upload Plugin). Deterministic.
woocommerce-plugin:
	$(PYTHON) plugins/woocommerce/build.py dist/backorder-connector.zip

# After changing the plugin's strings: the template again (GNU gettext's xgettext), then each .po
# merged with it (msgmerge), translated and compiled (msgfmt -o ....mo ....po).
WC_LANG := plugins/woocommerce/backorder-connector/languages
woocommerce-pot:
	cd plugins/woocommerce/backorder-connector && { sed -n '1,/^$$/p' languages/backorder-connector.pot; \
	  xgettext --language=PHP --from-code=UTF-8 --keyword=__ --keyword=esc_html__ --add-comments=translators: \
	    --omit-header --no-location -o - $$(find . -name '*.php' | LC_ALL=C sort); } > languages/.pot.new
	mv $(WC_LANG)/.pot.new $(WC_LANG)/backorder-connector.pot

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
