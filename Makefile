# Presta-AX Bridge — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-fast bench lint clean jaeger

venv: $(STAMP)

# PYTHONWARNINGS: setuptools' "Editable installation" notice (pip shows it as a BuildBackendWarning)
# warns that folders in the working directory may shadow the installed packages; here those folders
# are the packages themselves, so it says nothing a user can act on.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Start both sandboxes and the bridge on embedded defaults (local Ray); every start is a fresh demo
# (its own journal in ./data/demo, wiped with the sandboxes' state).
demo: venv
	PRESTA_AX_WEBHOOK_SECRETS=$${PRESTA_AX_WEBHOOK_SECRETS:-whsec_ZGVtby1zZWNyZXQtZGVtby1zZWNyZXQ=} \
	  $(VENV)/bin/presta-ax demo

# All tests: unit, contract, mappings, e2e (Ray + Serve), chaos. Needs PostgreSQL binaries (see .ci/run).
test: venv
	$(PY) -m pytest -q

# Jaeger v2 (all-in-one) built from the Go module proxy into ~/.cache/presta-ax/jaeger, once per
# machine (needs Go); the Jaeger tests use it, `presta-ax trace` reads traces back from it.
jaeger:
	deploy/jaeger/build.sh

test-fast: venv
	$(PY) -m pytest -q tests/unit

bench: venv
	$(PY) benchmarks/run_all.py

lint: venv
	$(VENV)/bin/ruff check runtime connectors pipelines tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/presta-ax lint pipelines/flows

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
