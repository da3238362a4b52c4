# Convenience targets; each is the same command the README gives.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0

.PHONY: serve test bench clean
serve:
	$(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install $(TORCH) -e . && $(VENV)/bin/panel serve app

test:
	$(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install $(TORCH) -e '.[test]' && $(VENV)/bin/python -m pytest

bench:
	$(VENV)/bin/python bench/metrics.py
	$(VENV)/bin/python bench/speed.py --json results/speed.json
	$(VENV)/bin/python bench/app_speed.py

clean:
	rm -rf $(VENV) .pytest_cache test-results
