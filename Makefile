# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
N      ?= 100000

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

## demo: install, build the knowledge graph of seeds/ into exports/, draw the story view
demo: $(VENV)/.installed
	$(BIN)/kg build seeds --out exports
	$(BIN)/kg view exports --story "facial recognition"
	@echo "open exports/views/facial-recognition.html in a browser"

## test: install the test extras, then lint (ruff), type-check (mypy) and run the whole test suite
test: $(VENV)/.installed-test
	$(BIN)/ruff check kg tests benchmarks conftest.py
	$(BIN)/mypy
	$(BIN)/python -m pytest

## bench: the performance benchmark (N articles; see benchmarks/README.md)
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py --n $(N)

clean:
	rm -rf exports/* .pytest_cache test-artifacts
