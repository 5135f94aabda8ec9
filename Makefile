# Neural Compression Workbench: the two commands are `make lab` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
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

.PHONY: help install lab test test-unit test-notebooks lint format execute bench clean

help:
	@echo "make lab      install (once) and start JupyterLab in notebooks/"
	@echo "make test     install (once), ruff, unit tests, then every notebook (FAST mode, nbval)"
	@echo "make execute  re-run every notebook in full mode and store scrubbed outputs"
	@echo "make bench    run the benchmarks in benchmarks/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade "pip>=23" >/dev/null
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	@echo "JupyterLab: http://127.0.0.1:$(PORT)/lab (the token URL is printed below)"
	$(BIN)/jupyter lab --notebook-dir=notebooks --no-browser --ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT)

lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks scripts notebooks

format: $(STAMP)
	$(BIN)/ruff format helpers tests benchmarks scripts

test-unit: $(STAMP)
	FAST=1 $(BIN)/python -m pytest tests/ -q

test-notebooks: $(STAMP)
	FAST=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:randomly notebooks/ -q

test: lint test-unit test-notebooks

execute: $(STAMP)
	FAST=0 CI= $(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

bench: $(STAMP)
	FAST=0 CI= $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
