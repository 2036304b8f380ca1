# The two commands a user needs: `make run` (the whole platform on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock run demo test quick test-busy lint typecheck pytest reliability fuzz bench \
	contracts chart-schema clean

install: $(STAMP)

# Exactly the locked dependencies, hash-checked; with uv where it can be had, else pip.
$(STAMP): pyproject.toml requirements-dev.txt tools/install.sh
	PYTHON=$(PYTHON) VENV=$(VENV) tools/install.sh requirements-dev.txt
	touch $(STAMP)

# After changing a pin in pyproject.toml: the lock files again, every dependency with its hashes.
lock: install
	tools/lock.sh

run: install
	$(BIN)/fivetype run

# The platform plus a programme year played on it (data in ./data/demo, 2 programme days a second).
demo: install
	$(BIN)/fivetype run --demo

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The suite runs in pytest-xdist workers: much of it waits on child processes (services,
# nats-servers), so three workers on two cores pay; four contend (docs/testing.md). A module's tests stay in one worker,
# so its fixtures start once; tests/conftest.py hands out the longest modules first
# (tests/durations.json). PYTEST_WORKERS=0 runs in this process.
# The order is random (pytest-randomly; the seed is printed: replay with
# PYTEST_ORDER="-p randomly --randomly-seed=N", or turn it off with PYTEST_ORDER="-p no:randomly").
PYTEST_WORKERS ?= 3
PYTEST_ORDER ?=
XDIST := --dist loadscope --no-loadscope-reorder
PYTEST_ARGS ?=
pytest: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(XDIST) $(PYTEST_ORDER) $(PYTEST_ARGS)

# The inner loop: unit and contract tests (no servers), well under a minute.
quick: install
	$(BIN)/python -m pytest -q -n 2 tests/unit $(PYTEST_ARGS)

# The suite while both cores are kept busy by a bounded CPU load (tools/busy.py), with every
# deadline stretched by FIVETYPE_TEST_TIME_SCALE: what CI or a shared machine may do to it.
BUSY_SCALE ?= 4
test-busy: install
	FIVETYPE_TEST_TIME_SCALE=$(BUSY_SCALE) $(BIN)/python tools/busy.py -- \
	$(MAKE) --no-print-directory pytest

# The fault-injection suite at a larger size (make test runs it at scale 1); the table is
# printed and written to reports/reliability.json.
RELIABILITY_SCALE ?= 5
reliability: install
	FIVETYPE_RELIABILITY_SCALE=$(RELIABILITY_SCALE) \
	FIVETYPE_RELIABILITY_REPORT=reports/reliability.json \
	$(BIN)/python -m pytest -p no:randomly tests/reliability --timeout=3600

# The fuzzers (Schemathesis against every API, hostile messages on every consumed subject) at
# FUZZ_SCALE times the bounded size make test runs.
FUZZ_SCALE ?= 10
fuzz: install
	FIVETYPE_FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest -n 2 $(XDIST) \
	tests/security/test_schemathesis.py tests/security/test_hostile_messages.py --timeout=3600

# Not part of `make test`: minutes long, and its figures are ratios, not assertions.
# BENCH_ARGS="--quick --backend sqlite" for a smoke run.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

contracts: install
	$(BIN)/python -m contracts.export

chart-schema: install
	PYTHONPATH=. $(BIN)/python tools/update_chart_schema.py

clean:
	rm -rf $(VENV) data reports .mypy_cache .ruff_cache .pytest_cache
