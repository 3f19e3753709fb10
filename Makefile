# One entry point for people and CI. Every target installs what it needs first.
SHELL := /bin/bash
ROOT := $(abspath .)
PY := $(ROOT)/.venv/bin/python
PIP := $(ROOT)/.venv/bin/pip
PACKAGES := -e schemas -e runtime -e services/ledger -e services/allocation -e services/payments -e services/reporting -e tools
VENV_STAMP := .venv/.installed
NATIVE_STAMP := services/ledger/src/ledger/native-build.json
NATIVE_SOURCES := $(wildcard services/ledger/src/ledger/domain/*.py services/ledger/src/ledger/adapters/*.py) services/ledger/src/ledger/service/ordering.py services/ledger/src/ledger/service/deciding.py

.PHONY: deps stack-deps venv kafka-jars postgres node-deps helm chromium reports-web up down status test unit demo bench clean

# What running the stack needs; the test suite also needs the AsyncAPI schemas and helm.
stack-deps: venv kafka-jars postgres

deps: stack-deps node-deps helm chromium

# The venv is made on the interpreter deploy/local/install-python.sh picks: Debian's python3.11, built with
# PGO and LTO as the images' base is (BASE_PYTHON overrides it). A venv made on another one is made again.
BASE_PYTHON_FILE := .venv/.base-python
ifneq ($(wildcard .venv/bin/python),)
ifneq ($(shell cat $(BASE_PYTHON_FILE) 2>/dev/null),$(shell deploy/local/install-python.sh 2>/dev/null))
$(shell rm -f $(VENV_STAMP))
endif
endif

venv: $(VENV_STAMP) $(NATIVE_STAMP)
$(VENV_STAMP): requirements.txt $(wildcard */pyproject.toml services/*/pyproject.toml) deploy/local/install-python.sh
	base="$$(deploy/local/install-python.sh)"; \
	if [ -x .venv/bin/python ] && [ "$$(cat $(BASE_PYTHON_FILE) 2>/dev/null)" != "$$base" ]; then \
		echo "venv: making .venv again, on $$base"; rm -rf .venv; fi; \
	test -x .venv/bin/python || { "$$base" -m venv .venv && echo "$$base" > $(BASE_PYTHON_FILE); }
	$(PIP) install -q --disable-pip-version-check -r requirements.txt
	$(PIP) install -q --disable-pip-version-check --no-deps --no-build-isolation $(PACKAGES)
	touch $@

# The ledger's decision code compiled with mypyc, rebuilt whenever its source changes (ledger/native.py:
# a stale build is never used). Without a C compiler it stays Python, slower, and says so.
$(NATIVE_STAMP): $(VENV_STAMP) $(NATIVE_SOURCES) services/ledger/src/ledger/native.py
	$(PY) -m ledger native-build || echo "ledger: compiling the decision code failed; it runs as Python (slower)" >&2

kafka-jars:
	deploy/local/install-kafka.sh

postgres:
	deploy/local/install-postgres.sh

node-deps:
	deploy/local/install-node-deps.sh

helm:
	deploy/local/install-helm.sh

# Headless Chromium (Debian's package) for the reporting dashboard's browser tests.
chromium:
	deploy/local/install-chromium.sh

# The reporting HTTP API and dashboard (python -m reporting.web serve) against the local stack's reporting
# database; keys and other settings from REPORTING_* variables (docs/operations.md).
reports-web: venv node-deps
	$(PY) -m reporting.web serve

up: stack-deps
	deploy/local/stack.sh up

down:
	deploy/local/stack.sh down

status:
	deploy/local/stack.sh status

unit: venv
	$(PY) -m pytest -q schemas/tests runtime/tests services/ledger/tests services/allocation/tests services/payments/tests services/reporting/tests tools/tests

test: deps
	$(PY) -m pytest -q

demo: stack-deps
	$(PY) -m caretools.demo

bench: stack-deps
	$(PY) -m caretools.bench
	$(PY) -m caretools.bench_allocation
	$(PY) -m caretools.bench_reporting
	$(PY) -m caretools.bench_payments

clean:
	deploy/local/stack.sh down || true
	rm -rf .local out
	find services/ledger/src -name '*.so' -delete
	rm -f $(NATIVE_STAMP)

# Bank-file renderers and statement path on 100,000 synthetic payments (payments.formats; see docs/payment-files.md).
.PHONY: bench-payment-files
bench-payment-files: venv
	$(PY) -m payments.formats.benchmark 100000

# The ledger with two worker processes in one consumer group against one, same events (issue 2 experiment;
# exits 1 while they decide differently: docs/performance.md, "Two ledger workers, tried").
.PHONY: bench-replicas
bench-replicas: stack-deps
	$(PY) -m caretools.bench_replicas
