# What the course's Makefile and the learner edition's Makefile share: settings and set-up.
SHELL := /bin/bash

VENV ?= .venv
export VENV
# The environment's commands (jupyter, nbgrader, alembic) come first.
export PATH := $(abspath $(VENV))/bin:$(PATH)
PY := $(VENV)/bin/python
PYTHON ?= $(shell tools/find-python)
# Notebook tests: parallel workers (one notebook per worker at a time).
JOBS ?= 2
# make test-fast: the markers it leaves out (pyproject.toml says what each marks).
FAST_TIER := not notebooks and not servers and not slow

bootstrap:
	@if [ -z "$(PYTHON)" ]; then exit 1; fi
	@$(PYTHON) tools/bootstrap.py

lab: bootstrap
	@$(PY) -m sparkcourse workspace
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=workspace --ServerApp.ip=127.0.0.1 $(LAB_ARGS) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

doctor: bootstrap
	$(PY) -m sparkcourse doctor
