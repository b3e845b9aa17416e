# Developer and CI entry points. CI runs `bash .ci/run`, which runs `make test`.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: venv bootstrap lock test lint services-start services-stop services-status bench run replay \
	clean

# The venv only (Redline + dev tools, pinned by constraints.txt).
venv:
	@scripts/bootstrap.sh --venv

# The venv and the local services' software (Kafka via Maven, Redis and Prometheus via apt).
bootstrap:
	@scripts/bootstrap.sh

# Re-resolve the dependencies of pyproject.toml and record them in constraints.txt.
lock:
	rm -f constraints.txt
	scripts/bootstrap.sh

# Unit and integration tests; integration tests start the services they need (tests/conftest.py).
# pytest's exit status 5 means it collected no test: that is a failure here.
test: bootstrap
	@$(PY) -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: venv
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/lint-imports --no-logo  # the import rules (pyproject.toml, ARCHITECTURE.md)

services-start:
	@scripts/services.sh start

services-stop:
	@scripts/services.sh stop

services-status:
	@scripts/services.sh status

# Benchmarks live in bench/ (bench/run.py is the entry point).
bench: venv
	@if [ -f bench/run.py ]; then $(PY) bench/run.py; \
	else echo "make bench: bench/run.py does not exist yet" >&2; exit 1; fi

# The local stack: Kafka, Redis, REDLINE_WORKERS workers, the demo load unless REDLINE_DEMO=0,
# and `redline watch` in the foreground; Ctrl-C stops what it started (scripts/run-stack.sh).
run: bootstrap
	@scripts/run-stack.sh

# Replays the sample events offline and prints each case's state (no services needed).
replay: venv
	.venv/bin/redline replay monitor/data/sample-events.jsonl \
		--now 2026-10-12T09:00:00+08:00 --catalog monitor/data/catalog.yaml \
		--centres monitor/data/centres.yaml --policy monitor/data/policy.yaml

# Stops the local services and removes their data and the tool caches (the .venv stays).
clean:
	-@scripts/services.sh stop
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist deploy/kafka/target
