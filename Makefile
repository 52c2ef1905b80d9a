# From SGD to Adam -- build, test and serve the book.
#
#   make book    execute every notebook and build the site into _build/html
#   make test    lint, unit tests, every notebook, a clean book build, browser check
#   make lab     JupyterLab in notebooks/
#   make serve   serve _build/html on http://127.0.0.1:$(PORT)
#   make bench   run the benchmarks (benchmarks/run.py)
#   make reproducible  run every notebook twice and compare the outputs
#   make strip   remove outputs from notebooks/*.ipynb before committing
#   make clean   remove build output and caches (make distclean also removes .venv)
#
# Everything runs in .venv, created on first use. Packages are (re)installed only when
# requirements*.txt or pyproject.toml change (stamp files inside .venv).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BOOK_STAMP := $(VENV)/.stamp-book
TEST_STAMP := $(VENV)/.stamp-test
PORT ?= 8000
PIP := $(BIN)/python -m pip --disable-pip-version-check
# Per-cell time limit (seconds) for the notebook tests; the book build has its own
# (execute.timeout in _config.yml).
CELL_TIMEOUT ?= 120
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: help book test lint unit notebooks check-site lab serve bench strip \
        clean distclean setup setup-test

help:
	@sed -n '2,11p' Makefile | sed 's/^# \{0,1\}//'

# --- environment ---------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BOOK_STAMP): requirements.txt constraints.txt pyproject.toml | $(BIN)/python
	$(PIP) install -q --progress-bar off -r requirements.txt -c constraints.txt
	$(PIP) install -q --progress-bar off -e .
	touch $@

$(TEST_STAMP): requirements-test.txt $(BOOK_STAMP)
	$(PIP) install -q --progress-bar off -r requirements-test.txt -c constraints.txt
	touch $@

setup: $(BOOK_STAMP)
setup-test: $(TEST_STAMP)

# Freeze every installed version into constraints.txt (after changing requirements*.txt).
constraints: $(TEST_STAMP)
	@{ sed -n '1,3p' constraints.txt; \
	  $(PIP) freeze --exclude-editable | grep -viE '^(adam.course|jupytext)==' \
	    | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# --- the book --------------------------------------------------------------------------

# A clean build: the old _build goes, every notebook is executed again
# (execute_notebooks: force), and any warning -- a cell that raises, a broken
# reference, a missing citation -- fails the build (-n -W; --keep-going reports them all).
# MPLBACKEND is unset: with MPLBACKEND=Agg the kernel would not show any figure.
book: $(BOOK_STAMP)
	rm -rf _build
	env -u MPLBACKEND $(BIN)/jupyter-book build . -n -W --keep-going
	@echo
	@echo "The book is in _build/html: open _build/html/index.html in a browser,"
	@echo "or run 'make serve' and visit http://127.0.0.1:$(PORT)/"

# --- tests -----------------------------------------------------------------------------

# make test runs, in this order, stopping at the first failure:
#   lint -> unit -> notebooks and book -> check-site
# The two phases that execute every notebook (nbval, and the clean book build) run side
# by side, one per core, to keep make test well under 5 minutes on a 2-core machine;
# their output is printed when both are done. TEST_JOBS=1 runs them one after the other.
TEST_JOBS ?= 2

test: $(TEST_STAMP)
	@phase() { \
	  local start=$$SECONDS; echo; echo "==> make $$1"; \
	  if $(MAKE) --no-print-directory $$1; then \
	    echo "==> make $$1: passed in $$(( SECONDS - start )) s"; \
	  else \
	    echo "==> make $$1: FAILED after $$(( SECONDS - start )) s"; return 1; \
	  fi; \
	}; \
	both() { \
	  local logs; logs=$$(mktemp -d); \
	  echo; echo "==> make $$1 and make $$2, side by side (output follows when both end)"; \
	  phase $$1 > "$$logs/1" 2>&1 & local p1=$$!; \
	  phase $$2 > "$$logs/2" 2>&1 & local p2=$$!; \
	  local rc1=0 rc2=0; wait $$p1 || rc1=$$?; wait $$p2 || rc2=$$?; \
	  cat "$$logs/1" "$$logs/2"; rm -rf "$$logs"; \
	  [ $$rc1 -eq 0 ] && [ $$rc2 -eq 0 ]; \
	}; \
	fail() { echo; echo "==> make test: FAILED"; exit 1; }; \
	total=$$SECONDS; \
	phase lint || fail; \
	phase unit || fail; \
	if [ "$(TEST_JOBS)" -ge 2 ]; then both notebooks book || fail; \
	else phase notebooks || fail; phase book || fail; fi; \
	phase check-site || fail; \
	echo; echo "==> make test: all phases passed in $$(( SECONDS - total )) s"

# ruff's settings are in pyproject.toml (it also lints the notebooks). Notebooks must be
# committed without outputs: nbstripout --verify fails if one has any (fix: make strip).
# Every notebook must be a chapter of the book: listed in _toc.yml.
lint: $(TEST_STAMP)
	$(BIN)/ruff check adam_course tests benchmarks notebooks
	@if [ -n "$(NOTEBOOKS)" ]; then \
	  $(BIN)/nbstripout --keep-id --verify $(NOTEBOOKS) \
	    || { echo "Notebooks above have outputs: run 'make strip'."; exit 1; }; \
	fi
	@for nb in $(NOTEBOOKS); do \
	  grep -Eq "^[[:space:]]*- file: $${nb%.ipynb}[[:space:]]*$$" _toc.yml \
	    || { echo "$$nb is not in _toc.yml: add it (and link it from book/intro.md)"; exit 1; }; \
	done

# Unit tests (tests/site is the browser check, run by check-site after the build).
unit: $(TEST_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests --ignore=tests/site

# Every notebook runs top to bottom in a fresh kernel. --nbval-lax: a cell that raises
# fails the test, outputs are not compared (the notebooks are committed without outputs,
# so there is nothing to compare; plain --nbval would also pass but would compare any
# output someone forgot to strip). --nbval-current-env: the kernel is .venv's Python.
notebooks: $(TEST_STAMP)
	@if [ -z "$(NOTEBOOKS)" ]; then echo "no notebooks in notebooks/"; exit 1; fi
	MPLBACKEND=Agg $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider $(NOTEBOOKS)

# Opens every page of the built site in headless Chromium (see tests/site/check_site.py).
check-site: $(TEST_STAMP)
	$(BIN)/python tests/site/check_site.py _build/html

# --- working with the book -------------------------------------------------------------

# (--allow-root only when run as root, e.g. in a container.)
lab: $(BOOK_STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

serve:
	@test -f _build/html/index.html || { echo "No site yet: run 'make book' first."; exit 1; }
	@echo "Serving _build/html on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# Restart & Run All gives the same numbers: every notebook twice, outputs compared (~90 s).
reproducible: $(TEST_STAMP)
	env -u MPLBACKEND $(BIN)/python tests/reproducible.py

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run.py

strip: $(TEST_STAMP)
	@if [ -n "$(NOTEBOOKS)" ]; then $(BIN)/nbstripout --keep-id $(NOTEBOOKS); fi

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis benchmarks/results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
