# The two commands of the README: `make run` and `make test`. Everything else supports them.
CARGO ?= cargo
BIN := partner-center

.PHONY: run build test lint fmt openapi openapi-check openapi-validate fuzz

## Build and start the service on the embedded SQLite database (./partner-center.db).
run:
	$(CARGO) run --release --locked -p api --bin $(BIN) -- serve

build:
	$(CARGO) build --release --locked -p api --bin $(BIN)

## Run every test. With TEST_DATABASE_URL=postgres://... every HTTP test also runs on PostgreSQL.
test:
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "make test: HTTP tests run on SQLite and on PostgreSQL ($$TEST_DATABASE_URL)"; \
	else \
		echo "make test: HTTP tests run on SQLite (set TEST_DATABASE_URL=postgres://... to add PostgreSQL)"; \
	fi
	$(CARGO) build --locked -p api --bin $(BIN)
	$(CARGO) test --locked --workspace -- --test-threads 4

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Regenerate the checked-in contract from the code.
openapi:
	$(CARGO) run --quiet --locked -p api --bin $(BIN) -- openapi > openapi.yaml

## Fail when openapi.yaml differs from what the code generates.
openapi-check:
	@$(CARGO) run --quiet --locked -p api --bin $(BIN) -- openapi | diff -u openapi.yaml - \
		|| (echo "openapi.yaml is out of date: run make openapi" && exit 1)

## Validate openapi.yaml as OpenAPI 3.1 (openapi-spec-validator from PyPI).
openapi-validate:
	@python3 -c "import openapi_spec_validator" 2>/dev/null \
		|| python3 -m pip install --quiet --disable-pip-version-check "openapi-spec-validator==0.9.0"
	python3 -m openapi_spec_validator openapi.yaml

## Generate the Python client and TypeScript types from openapi.yaml, type-check them, and run
## the end-to-end script (sdk/e2e.py) through the generated client against a live server
## (SQLite; also PostgreSQL with TEST_DATABASE_URL). Output under $(CARGO_TARGET_DIR)/sdk.
.PHONY: sdk
sdk:
	CARGO="$(CARGO)" sdk/run

## Contract fuzzing: Schemathesis (fuzz/requirements.txt, in a venv under the target dir)
## against a live debug server on a fresh SQLite database, and on a fresh PostgreSQL database
## when TEST_DATABASE_URL is set. Fails on any failure. See fuzz/run.
# Absolute: fuzz/run works in a throwaway directory.
FUZZ_TARGET := $(abspath $(or $(CARGO_TARGET_DIR),target))
FUZZ_VENV := $(FUZZ_TARGET)/fuzz-venv
fuzz:
	$(CARGO) build --locked -p api --bin $(BIN)
	@if [ ! -x $(FUZZ_VENV)/bin/python ] || [ fuzz/requirements.txt -nt $(FUZZ_VENV)/.installed ]; then \
		python3 -m venv $(FUZZ_VENV) \
		&& $(FUZZ_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r fuzz/requirements.txt \
		&& touch $(FUZZ_VENV)/.installed; \
	fi
	fuzz/run --binary $(FUZZ_TARGET)/debug/$(BIN) --python $(FUZZ_VENV)/bin/python sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		fuzz/run --binary $(FUZZ_TARGET)/debug/$(BIN) --python $(FUZZ_VENV)/bin/python postgres; \
	else \
		echo "make fuzz: PostgreSQL skipped (set TEST_DATABASE_URL=postgres://... to fuzz it too)"; \
	fi

## Benchmark (not in CI): release builds of the service and the baseline (bench/baseline), oha
## from crates.io, then bench/run.py seeds a fresh SQLite database (and PostgreSQL with
## BENCH_DATABASE_URL or TEST_DATABASE_URL), drives the load and rewrites BENCHMARKS.md. Each
## database: the seed (5 to 11 minutes on a busy 2-core machine) plus about 4 minutes of load.
## BENCH_REUSE=1 measures the databases the previous run seeded again, without seeding.
.PHONY: bench
OHA_VERSION := 1.16.0
BENCH_TARGET = $(or $(CARGO_TARGET_DIR),target)
bench:
	$(CARGO) build --release --locked -p api -p baseline --bin $(BIN) --bin bench-baseline
	@$(BENCH_TARGET)/tools/bin/oha --version 2>/dev/null | grep -q " $(OHA_VERSION)" \
		|| $(CARGO) install --locked oha@$(OHA_VERSION) --root $(BENCH_TARGET)/tools
	CARGO_TARGET_DIR=$(BENCH_TARGET) python3 bench/run.py
