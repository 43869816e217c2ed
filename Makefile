# Every target bootstraps .venv (pinned dependencies) by itself; a machine needs only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## The main job between local parties: secure sum of generated data at 3 parties.
demo: $(STAMP)
	$(BIN)/python -m parties.synthetic values --parties 3 --rows 1000 --out .demo/data
	$(BIN)/mpc local -n 3 --protocol shamir circuits/secure_sum.py \
		--input 0:values=.demo/data/party-0-values.csv \
		--input 1:values=.demo/data/party-1-values.csv \
		--input 2:values=.demo/data/party-2-values.csv

## The default suite (fast; slow, soak and bench markers are excluded).
test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check mpc tests circuits parties benchmarks
	$(BIN)/ruff format --check mpc tests circuits parties benchmarks
	$(BIN)/mypy

## The quick benchmark suite on loopback (about 5 minutes on 2 cores); figures in
## benchmarks/RESULTS.md, records and plots in benchmarks/results/. BENCH_NET=lan,wan adds the
## emulated WAN (as root, about 10 minutes more); BENCH_ARGS="--compare mpyc,crypten,spu" the peers.
BENCH_NET ?= lan
BENCH_ARGS ?=
bench: $(VENV)/.bench-installed
	$(BIN)/mpc bench --suite quick --net $(BENCH_NET) $(BENCH_ARGS)

$(VENV)/.bench-installed: $(STAMP) requirements-bench.txt
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $@

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
