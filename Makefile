# Every target creates .venv on first use, so a fresh clone needs nothing but `make`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean system-deps

$(STAMP): pyproject.toml
	@bash .ci/system-deps
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/briefing demo

test: $(STAMP)
	@bash .ci/browser-deps
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || true; done

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache .mypy_cache
