# dockyard: `make demo` and `make test` work on a fresh Debian machine (they create .venv first).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck imports sizes clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q tests

check: $(STAMP) lint typecheck imports sizes

lint:
	$(BIN)/ruff check src tests tools benchmarks

typecheck:
	$(BIN)/mypy

imports:
	$(BIN)/lint-imports

sizes:
	$(BIN)/python tools/module_sizes.py src/dockyard

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
