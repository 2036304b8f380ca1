# The two commands a user needs: `make run` (the whole platform on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock run demo test lint typecheck pytest reliability bench contracts chart-schema clean

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

pytest: install
	$(BIN)/python -m pytest

# The fault-injection suite at a larger size (make test runs it at scale 1); the table is
# printed and written to reports/reliability.json.
RELIABILITY_SCALE ?= 5
reliability: install
	FIVETYPE_RELIABILITY_SCALE=$(RELIABILITY_SCALE) \
	FIVETYPE_RELIABILITY_REPORT=reports/reliability.json \
	$(BIN)/python -m pytest tests/reliability --timeout=3600

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
