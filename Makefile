# The two commands a new user needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## initialise ./tokenry.db (migrations + first admin) and serve on 127.0.0.1:8000
	$(BIN)/tokenry init
	$(BIN)/tokenry serve

# The suite runs on every core (pytest-xdist), a test file to a worker: each test has its own
# SQLite file or PostgreSQL schema, and a file's session fixtures (npm ci, nginx) run once.
PYTEST_WORKERS ?= auto

test: $(STAMP)  ## lint, type-check and run the whole test suite (SQLite and PostgreSQL)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)  ## print the verification, HTTP throughput, Admin Center page and audit export tables
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/admin_pages.py
	$(BIN)/python bench/audit_export.py

# The million-row benchmarks run on PostgreSQL; the data set is built there once (about two
# minutes) and kept between runs. They take their own database so that its session count
# is theirs alone.
BENCH_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/tokenry_bench
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench-scale: $(BENCH_STAMP)  ## issue 10's figures: misses, memory, lists at a million rows, a hot token, revocation across nodes
	$(BIN)/python -m bench.cache_miss --database $(BENCH_POSTGRES_URL)
	$(BIN)/python bench/lists.py --database $(BENCH_POSTGRES_URL)
	$(BIN)/python bench/hot_token.py --database $(BENCH_POSTGRES_URL)
	$(BIN)/python bench/revocation.py --postgres $(BENCH_POSTGRES_URL)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
