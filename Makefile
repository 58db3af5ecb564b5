# Two entry points for a fresh machine with only Python 3.11+:
#   make run   -- set up everything, then start myovox on its embedded real recording
#   make test  -- set up everything, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.myovox-installed

.PHONY: run test setup bench clean

run: $(STAMP)
	$(PY) -m myovox run $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m myovox bench all

setup: $(STAMP)

$(STAMP): pyproject.toml packaging/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash packaging/setup.sh
	touch $(STAMP)

clean:
	rm -rf $(VENV)
