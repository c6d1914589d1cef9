# Hearth: set up, run and test.  `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:
.DELETE_ON_ERROR:

VENV   := .venv
HEARTH := $(VENV)/bin/hearth
# The stamp's name carries a hash of what the venv is built from: when requirements.lock,
# pyproject.toml or the llama.cpp build flags change, the name changes and `venv` reinstalls
# (a venv built before the portable llama.cpp library gets it this way); otherwise it is an
# up-to-date file and no pip runs at all.
DEPS_HASH := $(shell sha256sum requirements.lock pyproject.toml scripts/llama-wheel.sh | sha256sum | cut -c1-16)
STAMP     := $(VENV)/.hearth-deps-$(DEPS_HASH)

ARGS        ?=# extra arguments for `hearth gui` (make run ARGS="a.pdf b.pdf")
PYTEST_ARGS ?=# arguments for pytest, default: tests (make test PYTEST_ARGS="-k ingest -x")

.PHONY: help venv sysdeps models run test clean

help:
	@echo "make run      set up .venv and the default model, then open the Hearth window"
	@echo "make test     set up .venv, system packages and the model, then run pytest in a"
	@echo "              private D-Bus session with an unlocked keyring and an Xvfb display"
	@echo "              (PYTEST_ARGS=\"...\" to pass pytest arguments; HEARTH_SLOW=1 also builds the"
	@echo "              frozen bundle and smoke-tests it: packaging/build.sh --smoke)"
	@echo "make models   provision the default chat model into models/"
	@echo "make sysdeps  install the Debian packages the tests need (only the missing ones)"
	@echo "make clean    remove .venv"

venv: $(STAMP)

# Depending on the interpreter also rebuilds a venv whose python vanished (a removed base
# Python leaves a dangling link): venv.sh then recreates it.
$(STAMP): $(VENV)/bin/python
	@scripts/venv.sh $@

$(VENV)/bin/python:
	@:

sysdeps:
	@scripts/sysdeps.sh

models: venv
	@$(HEARTH) models fetch

run: venv models
	@$(HEARTH) gui $(ARGS)

test: venv sysdeps models
	@scripts/test-session.sh $(PYTEST_ARGS)

clean:
	rm -rf $(VENV)
