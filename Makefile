# Fresh-machine commands (see README):
#   make demo   set up everything, then render the seed-002 neuron diagram
#   make test   set up everything, then run the whole test suite
#   make docs   set up everything, then build the documentation site (docs/_build/html)
# All create .venv, install the package with its test and docs dependencies, and
# install Graphviz's `dot` with apt-get when it is missing and we are root.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test docs bench graphviz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,docs]'
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

# -W: any warning (a broken example, a wrong claim, a dangling link) fails the build.
docs: setup
	$(PY) -m sphinx -W --keep-going -b html -d docs/_build/doctrees docs docs/_build/html
	@echo "open docs/_build/html/index.html"

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/run.py
	$(PY) bench/descent_bench.py

clean:
	rm -rf $(VENV) out build docs/_build *.egg-info .pytest_cache .hypothesis
