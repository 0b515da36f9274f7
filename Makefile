# Two entry points: `make reproduce` (the main job) and `make test`.
# Both create .venv when missing and install the package with the pinned constraints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# OpenMP threads sleep instead of spinning when they wait: on a busy 2-core machine spinning wastes the cores.
export OMP_WAIT_POLICY := PASSIVE
STAMP := $(VENV)/.installed
OUT ?= results

.PHONY: venv test test-slow test-all reproduce reproduce-quick bench lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# Fast tier: unit, property and statistical tests plus the notebooks in their fast setting. The scale-out tests
# start their own Dask LocalCluster on this machine (distributed is in the dev extra): no service to start.
test: $(STAMP)
	$(BIN)/ruff check theory constructions verify tests benchmarks
	GANLIMITS_FAST=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 -m "not slow" \
		--durations=15 --nbmake tests notebooks

# Heavy Monte Carlo.
test-slow: $(STAMP)
	MPLBACKEND=Agg OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 -m slow tests

test-all: test test-slow

# Both resume: a result of the same claim, settings, seed and code version is reused, everything else recomputed.
reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/ganlimits reproduce --out $(OUT) --resume

reproduce-quick: $(STAMP)
	MPLBACKEND=Agg $(BIN)/ganlimits reproduce --quick --out $(OUT)-quick --resume

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check theory constructions verify tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
