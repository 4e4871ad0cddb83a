# The two commands that matter: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install env bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

# .env with fresh secrets, made once; existing values are never overwritten.
.env: | $(STAMP)
	$(PY) -m connector.envfile .env.example .env

env: .env

run: $(STAMP) .env
	SANDBOX_ENABLED=$${SANDBOX_ENABLED:-1} $(VENV)/bin/gunicorn wsgi:app --bind $(HOST):$(PORT) \
		--workers 1 --threads 8 --timeout 60 --access-logfile -

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/intake.py
	$(PY) benchmarks/shopify_normalise.py
	$(PY) benchmarks/planning.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
