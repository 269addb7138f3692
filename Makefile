# The two commands: `make demo` runs ketex on the bundled sample study (summary, then the full
# report in ./report), `make test` runs the linter, the type checker and the tests.
# Both create a virtual environment in .venv and install ketex into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck clean sample

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed-dev
	$(BIN)/ketex summary ketex/data/sample
	$(BIN)/ketex report ketex/data/sample --out report

test: lint typecheck
	$(BIN)/python -m pytest -q -n auto

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check ketex tests

# mypy on ketex/ with the settings and the current exceptions of [tool.mypy] in pyproject.toml
typecheck: $(VENV)/.installed-dev
	$(BIN)/python -m mypy

sample: $(VENV)/.installed-dev
	$(BIN)/python data/make_sample.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build *.egg-info
