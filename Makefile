# Neural Compression Workbench: the two commands are `make lab` and `make test`.
SHELL := /bin/bash
# The interpreter for the virtual environment: PYTHON if given, else the first supported Python found
# (python3, python3.12, 3.11, 3.10); scripts/pick_python.sh stops with the reason and the fix otherwise.
PYTHON ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
# Jupyter refuses to run as root without this flag (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# Explicit thread counts: an oversubscribed torch step on a shared 2-core machine ran 25x slower.
NPROC := $(shell nproc 2>/dev/null || echo 2)
export OMP_NUM_THREADS ?= $(NPROC)
export MKL_NUM_THREADS ?= $(OMP_NUM_THREADS)
# Tests and CI read the course's shared data folder when it sits beside the repository.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/kodak),)
export WORKBENCH_DATA ?= $(SHARED_DATA)
endif

.PHONY: help install lab test test-unit test-notebooks book test-browser test-install test-pythons assignments test-assignments lint format execute bench clean

help:
	@echo "make lab      install (once) and start JupyterLab in notebooks/"
	@echo "make test     install (once), ruff, unit tests, every notebook (FAST mode, nbval), the book, browser tests"
	@echo "make book     the course as a static HTML site in build/book (offline, from the stored outputs);"
	@echo "              AUDIENCE=instructor: with the answer key (lessons, rubrics) in build/book-instructor"
	@echo "make execute  re-run every notebook in full mode and store scrubbed outputs"
	@echo "make bench    run the benchmarks in benchmarks/"
	@echo "make test-install      the built wheel in a fresh environment runs every notebook (data from a local mirror)"
	@echo "make test-pythons      the wheel installs (no compiler) and works on the oldest and newest supported Python here"
	@echo "make assignments       student versions and autograder archives of exercises/ in build/assignments/"
	@echo "make test-assignments  grade every solutions notebook (full marks) and blank student version (zero)"

$(BIN)/python:
	@interpreter=$$(PYTHON="$(PYTHON)" sh scripts/pick_python.sh) && \
		echo "virtual environment from $$interpreter ($$($$interpreter --version))" && \
		$$interpreter -m venv $(VENV)

# Re-install when pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	@sh scripts/pick_python.sh --check $(BIN)/python
	$(BIN)/python -m pip install --upgrade "pip>=23" >/dev/null
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	@echo "JupyterLab: http://127.0.0.1:$(PORT)/lab (the token URL is printed below)"
	$(BIN)/jupyter lab --notebook-dir=notebooks --no-browser --ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT)

lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks scripts notebooks browser_tests book
	$(BIN)/ruff format --check helpers tests benchmarks scripts browser_tests book

format: $(STAMP)
	$(BIN)/ruff format helpers tests benchmarks scripts browser_tests book

test-unit: $(STAMP)
	FAST=1 $(BIN)/python -m pytest tests/ -q

test-notebooks: $(STAMP)
	FAST=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:randomly notebooks/ -q

# The web book: Sphinx + myst-nb + sphinx-book-theme, warnings are errors; nothing is executed.
# AUDIENCE=student (the default, build/book): no answer key; AUDIENCE=instructor (build/book-instructor): the
# lessons with their solutions, model answers, rubrics and notes as well.
AUDIENCE ?= student
book: $(STAMP)
	$(BIN)/python scripts/build_book.py --audience $(AUDIENCE)

# Real headless Chromium (Debian's chromium; skipped with the install command when it is missing):
# every book page, then every chapter widget moved in a live JupyterLab.
test-browser: book
	$(BIN)/python scripts/build_book.py --audience instructor
	FAST=1 $(BIN)/python -m pytest browser_tests/ -q -p no:randomly

test: lint test-unit test-notebooks test-browser

# The installed package, not the source tree: wheel -> fresh venv -> notebooks copied alone -> FAST run.
test-install: $(STAMP)
	$(BIN)/python scripts/test_install.py

# The supported Pythons (pyproject.toml's requires-python): the oldest and the newest found here install the
# wheel without a compiler and pass a few unit tests; an unsupported one is refused by scripts/pick_python.sh.
test-pythons: $(STAMP)
	$(BIN)/python scripts/test_pythons.py

# exercises/NN_slug.ipynb are otter-grader masters written from the lessons (scripts/make_assignments.py).
assignments: $(STAMP)
	$(BIN)/python scripts/make_assignments.py masters --check
	$(BIN)/python scripts/make_assignments.py assign

test-assignments: assignments
	FAST=1 $(BIN)/python scripts/make_assignments.py grade

execute: $(STAMP)
	FAST=0 CI= $(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

bench: $(STAMP)
	FAST=0 CI= $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
