# The two commands of the README: `make book` and `make test`. Each makes its own venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.convlab-installed
# Which results to compute: smoke | quick | full. Empty: full with a GPU, quick without.
PROFILE ?=

.PHONY: book test lint lock bench serving-check clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $@

book: $(STAMP)
	$(BIN)/convlab book build $(if $(PROFILE),--profile $(PROFILE))

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check convlab tests benchmarks checks
	$(BIN)/ruff format --check convlab tests benchmarks checks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

serving-check: $(STAMP)  # needs a pip index: makes .venv-serving with the container's TF
	bash checks/serving_version.sh

lock: $(STAMP)  # a maintainer's command: re-resolves the pins for every Python >= 3.10
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra ray --extra jax --universal \
		--python-version 3.10 --no-header -o requirements.lock
	sed -i '1i # Universal lock for Python >= 3.10: regenerate with `make lock`.' requirements.lock

clean:
	rm -rf _build build
