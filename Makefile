# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench faults infra-up infra-down clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/qyzmet run

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check shared services tests bench deploy
	$(BIN)/ruff format --check shared services tests bench deploy

typecheck: $(STAMP)
	$(BIN)/mypy shared services deploy

pytest: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m bench

# The fault suite (issue 12): a whole system under load while its processes, PostgreSQL and broker
# are killed and restarted; counts every application end to end (3-5 minutes; not part of `test`).
faults: $(STAMP)
	$(BIN)/python -m tests.faults $(FAULTS_ARGS)

infra-up: $(STAMP)
	$(BIN)/qyzmet infra up

infra-down: $(STAMP)
	$(BIN)/qyzmet infra down

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
