# Two fresh-machine commands (see README):
#   make demo   set up everything, then render the seed-002 neuron diagram
#   make test   set up everything, then run the whole test suite
# Both create .venv, install the package with its test dependencies, and
# install Graphviz's `dot` with apt-get when it is missing and we are root.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench graphviz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

graphviz:
	@bash scripts/ensure-graphviz.sh

setup: $(STAMP) graphviz

demo: setup
	@mkdir -p out
	$(VENV)/bin/tracegraph explain examples/neuron.py
	$(VENV)/bin/tracegraph render examples/neuron.py -o out/neuron.svg

test: setup
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/run.py
	$(PY) bench/descent_bench.py

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .hypothesis
