# One command to run the service, one to run the tests; each installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FHIR_SERVER := tests/fhir_server

.PHONY: install run test lint bench load fuzz clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(FHIR_SERVER)/node_modules/.installed: $(FHIR_SERVER)/package-lock.json
	cd $(FHIR_SERVER) && npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed

## run: the CDS Hooks service on its embedded defaults (http://127.0.0.1:8080/cds-services), production server settings
run: install
	$(PY) -m cds_service serve --workers 2

## test: lint, types, and the whole suite, including integration tests against a real FHIR server on 127.0.0.1
test: lint $(FHIR_SERVER)/node_modules/.installed
	$(PY) -m pytest --cov=cds_service --cov-report=term:skip-covered

lint: install
	$(PY) -m ruff check cds_service tests benchmarks
	$(PY) -m ruff format --check cds_service tests benchmarks
	$(PY) -m mypy

## fuzz: the long property-based fuzzing run (>= 10,000 hook, feedback and FHIR-answer cases; 0 server errors)
fuzz: install
	HER2_FUZZ_PROFILE=long $(PY) -m pytest tests/fuzz -p no:cacheprovider --hypothesis-show-statistics

## bench: the service against the framework floor over HTTP (10 to 5,000 resources, 1 and 2 workers), as ratios in one run
bench: install
	$(PY) -m benchmarks.throughput

## load: mixed hook + feedback traffic, 16 clients, LOAD_SECONDS (default 60) against a server on 127.0.0.1
load: install
	$(PY) -m benchmarks.load

clean:
	rm -rf $(VENV) $(FHIR_SERVER)/node_modules .pytest_cache .coverage
