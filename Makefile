# The two set-up commands (README): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: bootstrap demo test test-fast lint typecheck bench clean

bootstrap:
	./scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/bin/dolbom up --demo

test: bootstrap
	$(PY) -m pytest -q
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

test-fast:
	$(PY) -m pytest -q -m "not slow and not browser"

lint:
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

typecheck:
	$(PY) -m mypy

bench: bootstrap
	$(PY) -m bench

clean:
	rm -rf $(VENV) .dolbom .pytest_cache .mypy_cache .ruff_cache build *.egg-info
