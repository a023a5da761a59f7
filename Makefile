# The two commands of the README's quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: demo test serve bench bench-filters bench-search bench-feedback check install

$(BIN)/chapbook: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/chapbook

install: $(BIN)/chapbook

demo: install
	$(BIN)/chapbook demo

serve: install
	$(BIN)/chapbook serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install wrk"; exit 2; }
	$(BIN)/chapbook bench

# Listing queries on the current archive: build one first with `chapbook generate --works N`.
bench-filters: install
	$(BIN)/chapbook bench filters

# Searches on the current archive: build one first with `chapbook generate --works N --text`.
bench-search: install
	$(BIN)/chapbook bench search

# A work page with 500 comments and 1,000 concurrent kudos, on a throwaway archive (needs wrk).
bench-feedback: install
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install wrk"; exit 2; }
	$(BIN)/chapbook bench feedback

check: install
	$(BIN)/pip install --quiet -e '.[test,dev]'
	$(BIN)/ruff check chapbook tests --select F
	$(BIN)/mypy chapbook
