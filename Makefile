# Two entry points: `make reproduce` (the main job) and `make test`.
# Both create .venv when missing and install the package with the pinned constraints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# OpenMP threads sleep instead of spinning when they wait: on a busy 2-core machine spinning wastes the cores.
export OMP_WAIT_POLICY := PASSIVE
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed
LINTED := theory constructions verify tests benchmarks docs conftest.py
OUT ?= results
# Worker processes for the claims' sweeps (one torch thread each): one per core on the reference machine.
JOBS ?= 2

.PHONY: venv test test-slow test-all reproduce reproduce-quick results-page notebooks bench lint docs clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# Fast tier: unit, property and statistical tests, the >>> examples of the package folders (collected under their
# installed names by conftest.py), and the notebooks in their fast setting. The scale-out tests start their own
# Dask LocalCluster on this machine (distributed is in the dev extra): no service to start.
test: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	GANLIMITS_FAST=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 -m "not slow" \
		--durations=15 --doctest-modules --nbmake tests notebooks theory constructions verify

# Heavy Monte Carlo.
test-slow: $(STAMP)
	MPLBACKEND=Agg OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 -m slow tests

test-all: test test-slow

# Both resume: a result of the same claim, settings, seed and code version is reused, everything else recomputed.
# Both exit 0 once every claim has run, whatever the verdicts, and print the verdict counts (`ganlimits reproduce
# --strict` exits 1 unless every verdict is consistent or an identity holds). The quick setting is a low-power
# smoke run: its verdicts are not the reproduction's.
reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/ganlimits reproduce --out $(OUT) --resume --jobs $(JOBS)

reproduce-quick: $(STAMP)
	MPLBACKEND=Agg $(BIN)/ganlimits reproduce --quick --out $(OUT)-quick --resume --jobs $(JOBS)

# The documentation's Results page (docs/results.md, figures in docs/results-figures/) from a full reproduction's
# results folder; run it on the machine that ran `make reproduce`, which it describes.
results-page: $(STAMP)
	$(BIN)/python -m ganlimits.verify._results_page $(OUT) --docs docs

# JupyterLab on the notebooks (the [notebooks] extra: jupyterlab, nbconvert).
notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,notebooks]"
	$(BIN)/jupyter lab notebooks

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)

# The Sphinx site (docs/_build/html): warnings are errors; notebooks are shown as stored, never executed.
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	MPLBACKEND=Agg $(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis docs/_build docs/jupyter_execute
