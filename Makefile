# Both commands work on a fresh machine with Python 3.11, make and git.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-browser lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/crossroads demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 -q

$(VENV)/.installed-browser: $(VENV)/.installed-test pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,browser]'
	touch $@

# The participant page in a real browser: the distribution's Chromium, installed with apt when
# it is missing and this runs as root (Playwright's own browser download is never used).
CHROMIUM ?= /usr/bin/chromium

test-browser: $(VENV)/.installed-browser
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; fi
	CROSSROADS_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -m browser -p no:xdist tests/browser

lint: $(VENV)/.installed-test
	$(BIN)/ruff check game server tests bench

bench: $(VENV)/.installed-test
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache
