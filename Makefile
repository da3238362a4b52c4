# Convenience targets; each is the same command the README gives.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
# The browser tests that photograph the lab (into the ignored test-results/screenshots/), and the
# pictures the README shows.
SHOT_TESTS = tests/test_browser_sidebar.py tests/test_browser_scene.py tests/test_browser_compare.py
SHOTS = test-results/screenshots/lab-2d.png test-results/screenshots/lab-3d.png test-results/screenshots/compare.png

.PHONY: serve test bench screenshots clean
serve:
	$(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install $(TORCH) -e . && $(VENV)/bin/panel serve app

test:
	$(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install $(TORCH) -e '.[test]' && $(VENV)/bin/python -m pytest

bench:
	$(VENV)/bin/python bench/metrics.py
	$(VENV)/bin/python bench/speed.py --json results/speed.json
	$(VENV)/bin/python bench/app_speed.py

screenshots:
	rm -f $(SHOTS)
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider $(SHOT_TESTS)
	mkdir -p docs/screenshots && cp $(SHOTS) docs/screenshots/

clean:
	rm -rf $(VENV) .pytest_cache test-results
