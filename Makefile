# The two commands a user needs: `make run` (the whole platform on this machine) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint typecheck pytest contracts chart-schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

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

contracts: install
	$(BIN)/python -m contracts.export

chart-schema: install
	PYTHONPATH=. $(BIN)/python tools/update_chart_schema.py

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
