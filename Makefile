# The commands README.md gives, and the ones CI calls.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser run test lint typecheck pytest hooks bench clean

$(STAMP): pyproject.toml package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's Chromium (never a downloaded browser); a CJK font
# makes their screenshots readable. Installed once, as root, when missing.
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
$(CHROMIUM) $(CJK_FONT):
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-wqy-microhei

browser: $(CHROMIUM) $(CJK_FONT)

## Start the server on the embedded default (SQLite, no Redis) with the processes deployed.
run: install
	$(BIN)/jiuzhu serve --demo --host 127.0.0.1 --port 8000

## Lint, type-check and run every test (SQLite and PostgreSQL).
test: lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# With coverage of engine, integrations and jiuzhu (in-process only); below the floor in
# pyproject.toml ([tool.coverage.report] fail_under) the run fails. Plain `pytest` skips coverage.
# More pytest options: `make test PYTEST_ARGS="--durations=30"`.
pytest: install browser
	$(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)

## Run ruff, ruff format and mypy from .venv before every commit (.pre-commit-config.yaml).
hooks: install
	$(BIN)/pre-commit install

# Python 3.12 and 3.13 (pyproject.toml claims them) are not tested here: this machine's Debian
# (bookworm) packages only python3.11, and PyPI has no installable interpreter (uv and
# portable-python fetch theirs from elsewhere, which this machine and CI cannot reach). A
# `test-fast-py313` target belongs here once a python3.13 package is installable.

bench: install
	$(BIN)/python bench/engine_overhead.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
