# Deltacloud for Python: install, run, test. make run needs python3 (>= 3.11) and pip; make test also
# npm (Azurite) and, for what is missing, apt-get as root (Chromium, the OpenStack test cloud).
#
#   make run      install core + mock driver into .venv, start deltacloudd on the mock (HOST, PORT)
#   make test     install everything (editable, with dev tools), run every test and the linter
#   make install  (re)install everything into .venv, editable
#   make lint     ruff
#   make bench    benchmarks/run.py, when the benchmarks exist
#   make dist     every distribution's wheel and sdist (core, plugins, clients, docs examples) into dist/
#   make fuzz     schemathesis against deltacloudd (mock) from its own OpenAPI document, long (FUZZ_EXAMPLES)
#   make clean    caches and build output (make distclean also removes .venv)

PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 3001

BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Every plugin and client distribution and every example package in the docs, found by their pyproject.toml.
PLUGINS  := $(patsubst %/pyproject.toml,%,$(sort $(wildcard plugins/*/pyproject.toml)))
CLIENTS  := $(patsubst %/pyproject.toml,%,$(sort $(wildcard clients/*/pyproject.toml)))
EXAMPLES := $(patsubst %/pyproject.toml,%,$(sort $(wildcard docs/examples/*/pyproject.toml)))
PACKAGES := $(PLUGINS) $(CLIENTS) $(EXAMPLES)
# Stamps: reinstall when a pyproject changes (or a new plugin appears).
DEV_STAMP := $(VENV)/.deltacloud-dev
RUN_STAMP := $(VENV)/.deltacloud-run

# Test extras of plugins that declare one (their backends: moto, ...), and npm packages of plugins
# that ship a package.json (Azurite), installed into the plugin's own node_modules.
TEST_EXTRA = $(if $(shell grep -s '^test *=' $(1)/pyproject.toml),[test])
NPM_PACKAGES := $(patsubst %/package.json,%,$(sort $(wildcard plugins/*/package.json)))

.PHONY: install run test lint bench dist fuzz clean distclean system-deps

install:
	@rm -f $(DEV_STAMP)
	@$(MAKE) --no-print-directory $(DEV_STAMP)

run: $(RUN_STAMP)
	exec $(BIN)/deltacloudd -i mock -r $(HOST) -p $(PORT)

# One pytest run per suite (the core's, then each plugin's, client's and docs example's with its own
# configuration), so test modules of the same name in two suites never collide; several suites at
# once (TEST_JOBS), the longest first, and the linter beside them (scripts/run_suites.py). Every
# suite runs even when one fails; the target fails if any did.
TEST_JOBS ?= 3
test: $(DEV_STAMP)
	$(BIN)/python scripts/run_suites.py --jobs $(TEST_JOBS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

bench:
	@if [ -f benchmarks/run.py ]; then \
		$(MAKE) --no-print-directory $(DEV_STAMP) && $(BIN)/python benchmarks/run.py; \
	else \
		echo "benchmarks are not there yet (no benchmarks/run.py); nothing to do."; \
	fi

# Built by hatchling (every distribution's build backend) from the venv, without build isolation, so it
# works offline; what pip installs from dist/ needs only the distributions' own dependencies.
dist: $(DEV_STAMP)
	@rm -rf dist && mkdir -p dist
	$(BIN)/python -m hatchling build -d dist
	@for pkg in $(PACKAGES); do echo "hatchling build $$pkg"; (cd $$pkg && $(abspath $(BIN))/python -m hatchling build -d $(abspath dist)) || exit 1; done
	@ls dist

# A long fuzz run (make test runs a short one): fails on any answer >= 500 or outside the document.
FUZZ_EXAMPLES ?= 100
fuzz: $(DEV_STAMP)
	$(BIN)/python scripts/fuzz.py --examples $(FUZZ_EXAMPLES)

clean:
	rm -rf build dist .pytest_cache .ruff_cache .hypothesis *.egg-info
	rm -rf $(addsuffix /build,$(PACKAGES)) $(addsuffix /dist,$(PACKAGES))
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# The virtual environment. Without ensurepip (Debian's python3 without python3-venv), the
# system pip installs pip into a pip-less venv instead.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) \
		&& $(PYTHON) -m pip --python $(BIN)/python install pip; }

# System packages first: some distributions build against them (libvirt-python needs libvirt-dev).
$(DEV_STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PACKAGES)) $(addsuffix /package-lock.json,$(NPM_PACKAGES)) | $(BIN)/python system-deps
	$(PIP) install -e '.[dev]' $(foreach p,$(PACKAGES),-e '$(p)$(call TEST_EXTRA,$(p))')
	@for pkg in $(NPM_PACKAGES); do echo "npm ci --prefix $$pkg"; npm ci --prefix $$pkg --no-audit --no-fund || exit 1; done
	@touch $@

# What the tests need from the system: the Debian packages every distribution lists in its
# debian-packages.txt (Chromium for the browser test, the OpenStack services ...), the missing ones
# installed in one apt transaction; needs root (as CI runs). Never a browser download of a test tool.
system-deps:
	@bash scripts/system-deps.sh

$(RUN_STAMP): pyproject.toml plugins/deltacloud-mock/pyproject.toml | $(BIN)/python
	$(PIP) install -e . -e plugins/deltacloud-mock
	@touch $@
