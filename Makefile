# Four entry points: run, test, lint, bench. Each installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= samples/book-4p.pdf

.PHONY: run test lint bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[cpu]'

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[cpu,dev]'

## run: the platform on the embedded default, taking a sample PDF end to end over HTTP
run: install
	$(BIN)/ocrp run --demo $(DEMO)

## test: the whole suite against real PostgreSQL, Redis, S3 (SeaweedFS) and worker processes
test: install-dev
	$(BIN)/pytest -n 2 --dist loadfile

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared server worker

bench: install-dev
	$(BIN)/python -m bench.cpu_engine
	$(BIN)/python -m bench.overhead
	$(BIN)/python -m bench.render_timeout
	$(BIN)/python -m bench.backfill_overhead
	$(BIN)/python -m bench.textlayer.evaluate

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
