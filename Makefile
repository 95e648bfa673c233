# Photogram: the two commands are `make run` and `make test`; everything else is their parts.
SHELL := /bin/bash
PYTHON_BIN ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The second test lane's server: mongo-java-server, started by `ops/services.sh start mongo-wire`.
MONGO_WIRE_URL ?= mongodb://127.0.0.1:$(or $(PHOTOGRAM_MONGO_WIRE_PORT),37018)/

.PHONY: run demo test test-mongodb test-mongodb-lane setup browser venv web services mongo-wire services-stop services-status serve worker bench check-data lint lock clean

run: setup ## set everything up, then serve the API (GraphiQL at /graphql) and the worker
	$(PY) cli.py run --host $(HOST) --port $(PORT)

demo: setup ## fill the local database with the demo world (idempotent); SIZE=small for a tiny one
	$(PY) cli.py demo $(if $(SIZE),--size $(SIZE),)

test: setup browser mongo-wire ## set everything up, then run the suite in both lanes
	$(PY) -m pytest -q $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-mongodb-lane

test-mongodb: setup mongo-wire ## only the second lane: data-behaviour tests on MONGO_FLAVOR=mongodb
	@$(MAKE) --no-print-directory test-mongodb-lane

# The data-behaviour tests again, on a MongoDB-wire server with MongoDB's own semantics (atomic
# single-document updates), so the code path without FerretDB's workarounds runs too. Exit 5
# (nothing selected, e.g. PYTEST_ARGS naming only pure-logic tests) is not a failure.
test-mongodb-lane:
	@echo "== mongodb lane: MONGO_FLAVOR=mongodb MONGODB_URL=$(MONGO_WIRE_URL) (mongo-java-server) =="
	MONGO_FLAVOR=mongodb MONGODB_URL=$(MONGO_WIRE_URL) $(PY) -m pytest -q --data-only $(PYTEST_ARGS) \
	  || [ $$? -eq 5 ]

setup: venv web services

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.lock pyproject.toml
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null  # a venv made without pip
	$(PY) -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

web: web/node_modules/.package-lock.json
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

browser: ## Debian's chromium, for the GraphiQL browser test
	@command -v chromium >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

services: venv ## install, build, start and health-check MongoDB (FerretDB), Redis and MinIO
	ops/services.sh start

mongo-wire: venv ## mongo-java-server on 37018 for the mongodb test lane (needs a JDK and Maven)
	ops/services.sh start mongo-wire

services-stop:
	ops/services.sh stop

services-status:
	ops/services.sh status

serve: setup
	$(PY) cli.py serve --host $(HOST) --port $(PORT)

worker: setup
	$(PY) cli.py worker

check-data: setup ## photogram doctor: counters and derived indexes vs MongoDB; REPAIR=1 fixes them
	$(PY) cli.py doctor $(if $(REPAIR),,--dry-run)

bench: setup ## benchmarks; BENCH_SCALE=small|large
	$(PY) -m bench $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: schema codegen
schema: venv ## write schema.graphql, the SDL clients generate code from (a test checks it)
	$(PY) -m schema.sdl

codegen: web ## TypeScript types for web/operations/*.graphql from schema.graphql, type-checked
	cd web && npm run codegen && npm run typecheck

lock: ## re-pin dependencies with hashes (needs uv): everything, then the runtime subset
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --no-header --no-annotate -o requirements-dev.lock
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
	  --no-header --no-annotate -c requirements-dev.lock -o requirements.txt

clean:
	rm -rf $(VENV) web/node_modules var
