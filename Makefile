# shoplab: `make run` starts the system, `make test` runs every check and test.
# Both create .venv (from requirements.lock) when it is absent.
# `make test WORKERS=1` runs the tests in one process (see tests/conftest.py).

PYTHON ?= python3
WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck fmt protos clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "shoplab needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/shoplab up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the gRPC stubs in src/shoplab/contracts/grpc/ from the .proto contracts.
protos: $(STAMP)
	$(BIN)/python -m shoplab.contracts.protos

clean:
	rm -rf $(VENV) .shoplab .mypy_cache .ruff_cache .pytest_cache
