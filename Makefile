# The two commands the README promises: `make demo` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-base

## demo: load the demo organization into .garrison/garrison.db and serve http://127.0.0.1:8000
demo: $(VENV)/.installed-base
	$(BIN)/garrison demo

## test: lint, types, the whole test suite on SQLite and a throwaway PostgreSQL, then the fuzzers
test: $(VENV)/.installed-dev
	scripts/ensure-system-packages
	$(MAKE) --no-print-directory lint typecheck pytest fuzz

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy src

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -p no:cacheprovider --cov --cov-report=term $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .garrison .coverage build src/*.egg-info

## fuzz: each atheris target in fuzz/ for FUZZ_SECONDS (default 30) on a scratch copy of its corpus
FUZZ_SECONDS ?= 30
.PHONY: fuzz
fuzz: $(VENV)/.installed-dev
	@for target in events otlp; do \
	  work=$$(mktemp -d); cp fuzz/corpus/$$target/* $$work/; \
	  if ! $(BIN)/python fuzz/fuzz_$$target.py -max_total_time=$(FUZZ_SECONDS) \
	      -artifact_prefix=$$work/ $$work > $$work/log 2>&1; then \
	    grep -v '^INFO: Instrumenting' $$work/log | tail -40; \
	    echo "fuzz_$$target found a crash; the input is in $$work/crash-*"; exit 1; \
	  fi; \
	  echo "fuzz_$$target: $$(grep -o 'Done [0-9]* runs in [0-9]* second' $$work/log)"; \
	  rm -rf $$work; \
	done
