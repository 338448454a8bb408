# Presta-AX Bridge — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-fast bench lint clean jaeger console fuzz

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
demo: venv console
	PRESTA_AX_WEBHOOK_SECRETS=$${PRESTA_AX_WEBHOOK_SECRETS:-whsec_ZGVtby1zZWNyZXQtZGVtby1zZWNyZXQ=} \
	  $(VENV)/bin/presta-ax demo

# All tests: unit, contract, mappings, e2e (Ray + Serve), chaos. Needs PostgreSQL binaries (see .ci/run).
test: venv console
	$(PY) -m pytest -q

# The web console (console/, TypeScript): built into console/dist when it is missing or older than
# its sources; without Node >= 20 everything else still runs and one line says how to get it.
CONSOLE_SRC   := $(shell find console/src -type f 2>/dev/null) $(wildcard console/package*.json console/index.html console/*.config.ts console/tsconfig.json)
CONSOLE_STAMP := console/dist/.build-stamp

console:
	@if command -v npm >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; \
	then $(MAKE) --no-print-directory $(CONSOLE_STAMP); \
	else echo "console: not built (the web console needs Node >= 20 with npm: install them, then run 'make console'); everything else runs"; fi

# npm ci (a fresh node_modules) only when the lock file changed; a source change only rebuilds
CONSOLE_DEPS  := console/node_modules/.ci-stamp

$(CONSOLE_DEPS): console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CONSOLE_STAMP): $(CONSOLE_SRC) $(CONSOLE_DEPS)
	cd console && npm run build
	@touch $@

# Jaeger v2 (all-in-one) built from the Go module proxy into ~/.cache/presta-ax/jaeger, once per
# machine (needs Go); the Jaeger tests use it, `presta-ax trace` reads traces back from it.
jaeger:
	deploy/jaeger/build.sh

# Coverage-guided fuzzing (atheris) of the webhook decoder, the PrestaShop codec and the AX decoder:
# FUZZ_SECONDS per target (default 60), seeded from fuzz/corpus/; what it finds goes to fuzz/found/
# (kept between runs, not committed) and crashes to fuzz/crashes/ (each becomes a test in
# tests/security/test_fuzzing.py). `make test` runs a short seeded round of each target.
FUZZ_SECONDS ?= 60
fuzz: venv
	@for t in webhook:webhook prestashop_codec:prestashop ax_codec:ax; do \
	  mkdir -p fuzz/found/$${t##*:} && \
	  $(PY) fuzz/fuzz_$${t%%:*}.py -max_total_time=$(FUZZ_SECONDS) fuzz/found/$${t##*:} fuzz/corpus/$${t##*:} \
	  || exit 1; done

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
