# The two commands a user needs: `make run` (the whole platform on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest bench contracts chart-schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/fivetype run

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest

# Not part of `make test`: minutes long, and its figures are ratios, not assertions.
# BENCH_ARGS="--quick --backend sqlite" for a smoke run.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

contracts: install
	$(BIN)/python -m contracts.export

chart-schema: install
	PYTHONPATH=. $(BIN)/python tools/update_chart_schema.py

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
