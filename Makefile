# Two commands matter (see README): `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_OUT ?= demo-out

.PHONY: setup system-deps demo test check lint neo4j-start neo4j-stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# System packages the tests need (headless Chromium for the map tests); idempotent.
system-deps:
	bash scripts/install-system-deps.sh

demo: setup
	$(BIN)/netanalysis demo --out $(DEMO_OUT)

# The Neo4j server is started by the test session itself (tests/conftest.py), unless NEO4J_URI
# points at a server of your own.
test: setup system-deps lint
	$(BIN)/python -m pytest

# The contributors' fast loop (CONTRIBUTING.md): lint, format, types and every test that needs
# no Neo4j server, no browser and no long run.
check: system-deps lint
	$(BIN)/python -m pytest -q -n 2 -m "not neo4j and not browser and not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

neo4j-start: setup
	$(BIN)/netanalysis neo4j start

neo4j-stop: setup
	$(BIN)/netanalysis neo4j stop

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
