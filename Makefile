# From SGD to Adam -- build, test and serve the book.
#
#   make book    execute every notebook and build the site into _build/html
#   make test    lint, unit tests, every notebook (nbval, another platform), a clean book
#                build, browser check of the site (5 minutes)
#   make check-all  after make test: JupyterLab, visible solutions, the student edition, the
#                PDF, make portable
#   make portable   every notebook under forced BLAS kernels, thread counts and numpy SIMD
#   make lab     JupyterLab in notebooks/ (MyST rendered, solutions folded, no news pop-up)
#   make serve   serve _build/html on http://127.0.0.1:$(PORT)
#   make student the student edition: _build/student/html and _build/student/notebooks
#   make pdf     the whole book as one PDF: _build/pdf/from-sgd-to-adam.pdf
#   make publish push _build/html to the gh-pages branch of $(REMOTE) (default origin)
#   make bench   run the benchmarks (benchmarks/run.py); make bench-lab: explorers in JupyterLab
#   make reproducible  run every notebook twice and compare the outputs
#   make check-visible every notebook without its remove-cell cells: each solution runs
#   make mutate  mutation testing of adam_course (slow; MODULES=adam_course/optim.py for one)
#   make strip   remove outputs from notebooks/*.ipynb, fold solutions, write citations for Lab
#   make clean   remove build output and caches (make distclean also removes .venv)
#
# Everything runs in .venv, created on first use. Packages are (re)installed only when
# requirements*.txt or pyproject.toml change (stamp files inside .venv). System packages
# (chromium, TeX, poppler, npm) come from tools/need: installed with apt-get when missing and
# running as root, otherwise a one-line instruction.

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

.PHONY: help book test check-all lint unit notebooks portable check-site check-site-selftest \
        check-site-pages check-student check-lab \
        lab serve bench bench-lab strip student pdf check-pdf publish clean distclean setup \
        setup-test constraints mutate check-visible

NEED := tools/need
REMOTE ?= origin
# axe-core (the accessibility rules of the site check), from npm, into .venv (git-ignored)
AXE_VERSION := 4.14.1
AXE := $(VENV)/node_modules/axe-core/axe.min.js
# JupyterLab settings every `make lab` gets (no news pop-up): the environment's overrides.json
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
# The student edition and the PDF are built from the notebooks that `make book` executed
# (_build/jupyter_execute), so no notebook runs twice. A book older than any of its sources
# is rebuilt first.
BOOK_SOURCES := notebooks book adam_course _config.yml _toc.yml
fresh_book = if [ ! -f _build/html/index.html ] || [ ! -d _build/jupyter_execute/notebooks ] \
	  || [ -n "$$(find $(BOOK_SOURCES) -newer _build/html/index.html -not -path '*/.ipynb_checkpoints/*' \
	       \( -name '*.ipynb' -o -name '*.py' -o -name '*.md' -o -name '*.bib' -o -name '*.yml' \
	          -o -name '*.css' -o -name '*.js' \) -print -quit)" ]; then \
	  echo "The book is missing or older than its sources: make book first."; \
	  $(MAKE) --no-print-directory book; fi

help:
	@sed -n '2,20p' Makefile | sed 's/^# \{0,1\}//'

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

$(LAB_OVERRIDES): tools/lab-overrides.json | $(BIN)/python
	mkdir -p $(dir $@)
	cp $< $@

$(AXE):
	@$(NEED) npm
	npm install --silent --no-audit --no-fund --no-package-lock --prefix $(VENV) axe-core@$(AXE_VERSION)

setup: $(BOOK_STAMP) $(LAB_OVERRIDES)
setup-test: $(TEST_STAMP) $(LAB_OVERRIDES)

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

# make test: lint, then two lanes side by side, one per core (tools/phases.sh):
#   unit -> notebooks -> (once the book is built) check-site-pages
#            the unit tests, nbval under another platform (NBVAL_ENV)
#   book -> check-site-pages
#            the clean book build, then the browser check of the site's pages
# The two check-site-pages share the site's pages (check_site.py --share): each page is
# checked once, by whichever lane is free first.
# stopping at the first failure, and printing each phase's wall and CPU time. So every make
# test executes every notebook on two platforms: this machine's own (the book) and an old
# one (nbval). See the README for the phase times. TEST_JOBS=1 runs the phases one after
# the other. make check-all runs what is slower or needs more than a browser (below).
TEST_JOBS ?= 2
PHASES = MAKE_CMD="$(MAKE) --no-print-directory"; source tools/phases.sh

test: export REQUIRE_BROWSER = 1
test: $(TEST_STAMP) $(AXE)
	@$(NEED) chromium npm
	@$(PHASES); total=$$SECONDS; \
	phase lint || fail test; \
	if [ "$(TEST_JOBS)" -ge 2 ]; then \
	  export SITE_SHARE=$$(mktemp -d); \
	  lanes "unit notebooks @book check-site-pages" "book check-site-pages" \
	    || { rm -rf "$$SITE_SHARE"; fail test; }; rm -rf "$$SITE_SHARE"; \
	else for t in unit notebooks book check-site-pages; do \
	  phase $$t || fail test; done; fi; \
	echo; echo "==> make test: all phases passed in $$(( SECONDS - total )) s"

# make check-all (after make test, which built the book; .ci/run runs both): every chapter
# in JupyterLab and every visible solution (check-visible) beside the site check's own test
# (check-site-selftest: it tests the checker, not the book, so make test leaves it here, 35 s
# of a lane), the student edition's build and check and the PDF, then make portable. Every phase runs even after one fails; make
# check-all fails if any did.
check-all: export REQUIRE_BROWSER = 1
check-all: $(TEST_STAMP) $(AXE)
	@$(NEED) chromium npm tex poppler
	@$(PHASES); total=$$SECONDS; failed=""; \
	if [ "$(TEST_JOBS)" -ge 2 ]; then \
	  lanes "check-lab check-visible" "check-site-selftest check-student pdf check-pdf" \
	    || failed="$$failed (a phase above)"; \
	else for t in check-lab check-visible check-site-selftest check-student pdf check-pdf; do \
	  phase $$t || failed="$$failed $$t"; done; fi; \
	phase portable || failed="$$failed portable"; \
	echo; if [ -n "$$failed" ]; then echo "==> make check-all: FAILED:$$failed"; exit 1; fi; \
	echo "==> make check-all: all phases passed in $$(( SECONDS - total )) s"

# ruff's settings are in pyproject.toml (it also lints the notebooks). Notebooks must be
# committed without outputs: nbstripout --verify fails if one has any (fix: make strip).
# Every notebook must be a chapter of the book: listed in _toc.yml.
# tools/notebooks.py check: every solution cell folded in JupyterLab, citations in the form
# JupyterLab shows as text (fix both: make strip).
lint: $(TEST_STAMP)
	$(BIN)/ruff check adam_course tests benchmarks notebooks tools book/_ext
	$(BIN)/python tools/notebooks.py check --max-words 3500 $(NOTEBOOKS)
	@if [ -n "$(NOTEBOOKS)" ]; then \
	  $(BIN)/nbstripout --keep-id --verify $(NOTEBOOKS) \
	    || { echo "Notebooks above have outputs: run 'make strip'."; exit 1; }; \
	fi
	@for nb in $(NOTEBOOKS); do \
	  grep -Eq "^[[:space:]]*- file: $${nb%.ipynb}[[:space:]]*$$" _toc.yml \
	    || { echo "$$nb is not in _toc.yml: add it (and link it from book/intro.md)"; exit 1; }; \
	done

# Unit tests (tests/site is the browser check, run by check-site after the build), with the
# ten slowest listed.
unit: $(TEST_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests --ignore=tests/site --durations=10

# Every notebook runs top to bottom in a fresh kernel. --nbval-lax: a cell that raises
# fails the test, outputs are not compared (the notebooks are committed without outputs,
# so there is nothing to compare; plain --nbval would also pass but would compare any
# output someone forgot to strip). --nbval-current-env: the kernel is .venv's Python.
# It runs under the numerical environment NBVAL_ENV of tools/portable.py (default "oldest":
# OpenBLAS's Prescott kernel, one thread, numpy without AVX2), checked to take effect first,
# so that make test sees a second platform beside the book build's.
NBVAL_ENV ?= oldest
notebooks: $(TEST_STAMP)
	@if [ -z "$(NOTEBOOKS)" ]; then echo "no notebooks in notebooks/"; exit 1; fi
	$(BIN)/python tools/portable.py run $(NBVAL_ENV) -- \
	  $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
	  --nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider $(NOTEBOOKS)

# make portable: every notebook in a fresh kernel under each numerical environment of
# tools/portable.py (forced OpenBLAS kernels, thread counts, numpy's SIMD narrowed), each
# checked to take effect and to round differently; prints every failing cell with its assert
# per environment. NOTEBOOKS=notebooks/07_adam_on_a_network.ipynb for one, ENVS=prescott,oldest
# for some environments, PORTABLE_JOBS kernels at a time, STATUS=file.md to write the report.
PORTABLE_JOBS ?= 2
ENVS ?=
STATUS ?=
portable: $(TEST_STAMP)
	$(BIN)/python tools/portable.py --jobs $(PORTABLE_JOBS) $(if $(ENVS),--envs "$(ENVS)") \
	  $(if $(STATUS),--status "$(STATUS)") $(NOTEBOOKS)

# Opens every page of the built site in headless Chromium (see tests/site/check_site.py),
# with axe-core's WCAG 2 A/AA rules, after the check's own test (each problem it looks for,
# planted in a tiny page, must be found). make test runs the two in different lanes: the
# self-test needs no book.
check-site: check-site-selftest check-site-pages
check-site-selftest: $(TEST_STAMP) $(AXE)
	@$(NEED) chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/site/test_check_site.py
check-site-pages: $(TEST_STAMP) $(AXE)
	@$(NEED) chromium
	$(BIN)/python tests/site/check_site.py _build/html $(if $(SITE_SHARE),--share "$(SITE_SHARE)")

# The student edition (make student), then its tests: no solution left, every exercise
# kept (tests/site/test_student.py), and the same browser check as the main site.
check-student: $(TEST_STAMP) $(AXE)
	@$(NEED) chromium
	@$(MAKE) --no-print-directory student
	$(BIN)/python -m pytest -p no:cacheprovider tests/site/test_student.py
	$(BIN)/python tests/site/check_site.py _build/student/html

# Every notebook in JupyterLab, in headless Chromium (see tests/lab/check_lab.py): runs all
# cells, fails on an error, raw MyST markup, an unfolded solution, or a live explorer whose
# figure does not change when a slider moves; prints each explorer's slider-to-figure time.
check-lab: $(TEST_STAMP)
	@$(NEED) chromium
	$(BIN)/python tests/lab/check_lab.py $(NOTEBOOKS)

# --- editions --------------------------------------------------------------------------

# The student edition: the site without any solution (exercises and checkers kept) in
# _build/student/html, and the chapters without solution cells in _build/student/notebooks.
# Built from the book's executed notebooks with execution off (sound: removing a solution
# cell changes no other cell's output, which are those of the main site).
student: $(BOOK_STAMP)
	@$(fresh_book)
	rm -rf _build/student
	$(BIN)/python tools/notebooks.py edition _build/student/src --student \
	  --executed _build/jupyter_execute/notebooks --title-suffix " (student edition)"
	$(BIN)/python tools/notebooks.py student notebooks _build/student/notebooks
	$(BIN)/jupyter-book build _build/student/src -n -W --keep-going --path-output _build/student/src
	mv _build/student/src/_build/html _build/student/html
	@echo "Student edition: _build/student/html (site), _build/student/notebooks (chapters)"

# The whole book as one PDF (Jupyter Book's LaTeX builder, XeLaTeX), from the book's executed
# notebooks; each animation shows all its frames in one PNG. Laid out as a book by
# book/_ext/pdfbook.py: front matter, the parts of _toc.yml, chapters numbered as on the site,
# lettered appendices, the bibliography at the end. Needs TeX (tools/need tex).
PDF := _build/pdf/from-sgd-to-adam.pdf
pdf: $(BOOK_STAMP)
	@$(NEED) tex
	@$(fresh_book)
	rm -rf _build/pdf
	$(BIN)/python tools/notebooks.py edition _build/pdf/src --pdf \
	  --executed _build/jupyter_execute/notebooks
	$(BIN)/jupyter-book build _build/pdf/src --builder pdflatex -n --keep-going \
	  --path-output _build/pdf/src
	cp _build/pdf/src/_build/latex/from-sgd-to-adam.pdf $(PDF)
	@echo "The PDF: $(PDF)"

# Reads the PDF back and compares it with the site (_build/html): the contents (parts,
# chapters 1-8, sections, appendices A, B, the bibliography last), every numbered heading,
# figure, exercise and theorem, the running heads, the cross-references' targets; and builds
# a small book whose going-deeper box, with code and a figure, must print open.
check-pdf: $(TEST_STAMP)
	@$(NEED) poppler
	@test -f $(PDF) || $(MAKE) --no-print-directory pdf
	$(BIN)/python -m pytest -p no:cacheprovider tests/site/test_pdf.py

# Pushes _build/html to the gh-pages branch of $(REMOTE) (ghp-import; .nojekyll included so
# that GitHub Pages serves _static/). REMOTE=name-or-url overrides origin.
publish: $(BOOK_STAMP)
	@$(BIN)/python tools/publish.py _build/html --remote "$(REMOTE)"

# --- working with the book -------------------------------------------------------------

# (--allow-root only when run as root, e.g. in a container.)
lab: $(BOOK_STAMP) $(LAB_OVERRIDES)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

serve:
	@test -f _build/html/index.html || { echo "No site yet: run 'make book' first."; exit 1; }
	@echo "Serving _build/html on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# Restart & Run All gives the same numbers: every notebook twice, outputs compared (~90 s).
reproducible: $(TEST_STAMP)
	env -u MPLBACKEND $(BIN)/python tests/reproducible.py

# A reader of the site sees no remove-cell cell: every solution must run without them. Runs each
# notebook that way in a fresh kernel (~4 min); tests/test_visible_solutions.py (make unit)
# checks the same from the code alone.
check-visible: $(TEST_STAMP)
	$(BIN)/python tests/visible_solutions.py $(NOTEBOOKS)

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run.py

# Mutation testing, not part of make test (slow: see the README). tools/mutate.py runs mutmut
# (settings in pyproject.toml, [tool.mutmut]; its copy of the tree is mutants/, git-ignored) on
# each module of MODULES (default: optim, exercises, checks and the chapter modules): every mutant
# is one small bug, run against the unit tests that call the mutated function. It prints each
# survivor not explained in tests/MUTATION_NOTES.md and a summary per module, and fails if there
# is one. MODULES="adam_course/optim.py adam_course/rates.py" for some; MUTATE_JOBS mutants at
# once, at the lowest priority (the machine stays usable).
MODULES ?=
MUTATE_JOBS ?= 2
mutate: $(TEST_STAMP)
	nice -n 19 $(BIN)/python tools/mutate.py --jobs $(MUTATE_JOBS) $(MODULES)

# The live explorers as a reader meets them: slider key press to new figure in JupyterLab,
# median of MOVES moves each (check-lab does the same with 5 and also checks everything else).
MOVES ?= 15
bench-lab: $(TEST_STAMP)
	@$(NEED) chromium
	$(BIN)/python tests/lab/check_lab.py --moves $(MOVES) $(NOTEBOOKS)

# nbstripout, then tools/notebooks.py: solution cells folded in JupyterLab, citations in the
# form JupyterLab shows as text (make lint checks both).
strip: $(TEST_STAMP)
	@if [ -n "$(NOTEBOOKS)" ]; then \
	  $(BIN)/nbstripout --keep-id $(NOTEBOOKS); \
	  $(BIN)/python tools/notebooks.py fold $(NOTEBOOKS); \
	  $(BIN)/python tools/notebooks.py cite $(NOTEBOOKS); \
	fi

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis benchmarks/results mutants
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
