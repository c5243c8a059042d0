# One command to run the service, one to run the tests; each installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FHIR_SERVER := tests/fhir_server

.PHONY: install install-run run test lint browser bench bench-ceiling load fuzz constraints clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Running needs the package and its runtime dependencies only (pinned by constraints.txt). Editable, so an edit
# to cards/, mappings/ or the code takes effect on restart.
$(VENV)/.installed-run: pyproject.toml setup.py constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

# The tests also need the test extras; they run on the same pinned runtime dependencies as the image.
$(VENV)/.installed: pyproject.toml setup.py constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed-run

$(FHIR_SERVER)/node_modules/.installed: $(FHIR_SERVER)/package-lock.json
	cd $(FHIR_SERVER) && npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed
install-run: $(VENV)/.installed-run

## run: the CDS Hooks service on its embedded defaults (http://127.0.0.1:8080/cds-services), production server settings
run: install-run
	$(PY) -m cds_service serve --workers 2

## browser: Debian's chromium for the browser tests (Playwright cannot download one here), when missing and root;
## a CJK font so the Chinese screenshots are legible. Without it the browser tests skip (CI sets HER2_REQUIRE_BROWSER=1).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
	fi

## test: lint, types, and the whole suite, including integration tests against a real FHIR server on 127.0.0.1
test: lint browser $(FHIR_SERVER)/node_modules/.installed
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

## bench-ceiling: the floor, the service with rules that cost nothing (their first answer reused) and the service (300 resources)
bench-ceiling: install
	$(PY) -m benchmarks.ceiling

## load: mixed hook + feedback traffic, 16 clients, LOAD_SECONDS (default 60) against a server on 127.0.0.1
load: install
	$(PY) -m benchmarks.load

## constraints: re-pin the runtime dependencies after a change to pyproject.toml (fresh venv, pip freeze)
constraints:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --upgrade '.[postgres]' setuptools
	{ sed -n '/^#/p' constraints.txt; build/lock-venv/bin/pip freeze --all --exclude her2-cds-hooks --exclude pip; } \
		> constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf build/lock-venv

clean:
	rm -rf $(VENV) $(FHIR_SERVER)/node_modules .pytest_cache .coverage build dist
