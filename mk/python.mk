# Python package targets: a virtualenv (.venv) made from a clean clone, the
# package built from source by `pip install ./bindings-python` (maturin, debug
# profile, the shared CARGO_TARGET_DIR), then the quickstart from outside the
# repo, stubtest, mypy --strict and pytest.
.PHONY: demo-python test-python python-venv python-install python-fresh-install

PY_STAMP := $(VENV)/.deps-stamp
PY_TOOLS := maturin==1.16.* pytest==9.* pytest-asyncio==1.5.* mypy nbclient ipykernel nbformat pandas pyarrow tqdm matplotlib
PY_SOURCES := $(shell find bindings-python/src bindings-python/python core/src emulator/src -type f 2>/dev/null) \
	bindings-python/Cargo.toml bindings-python/pyproject.toml core/Cargo.toml emulator/Cargo.toml Cargo.lock
PY_BUILD_STAMP := $(VENV)/.build-stamp

$(PY_STAMP): mk/python.mk
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q $(PY_TOOLS)
	@touch $@

python-venv: $(PY_STAMP)

# The in-tree source install IS the build the tests use (one debug build).
$(PY_BUILD_STAMP): $(PY_STAMP) $(PY_SOURCES)
	PATH="$(VENV)/bin:$$PATH" MATURIN_PEP517_ARGS="--profile dev" $(VPY) -m pip install -q --no-build-isolation --force-reinstall --no-deps ./bindings-python
	@touch $@

python-install: $(PY_BUILD_STAMP)

demo-python: $(PY_BUILD_STAMP)
	@echo "== Python: examples/quickstart.py =="
	@cd /tmp && $(VPY) $(CURDIR)/examples/quickstart.py
	@echo
	@echo "== Python: examples/webhook_server.py --demo (signed handover webhooks, one round trip) =="
	@cd /tmp && $(VPY) $(CURDIR)/examples/webhook_server.py --demo
	@echo

# What a user does: `pip install ./bindings-python` into a brand-new virtualenv
# (pip fetches maturin into an isolated build env and builds from source), then
# the quickstart from outside the repo. The dev profile and shared target dir
# keep it a relink, not a second build.
PY_FRESH_VENV := $(CARGO_TARGET_DIR)/python-fresh-venv
python-fresh-install: $(PY_BUILD_STAMP)
	rm -rf $(PY_FRESH_VENV) && $(PYTHON) -m venv $(PY_FRESH_VENV)
	MATURIN_PEP517_ARGS="--profile dev" $(PY_FRESH_VENV)/bin/pip install -q --disable-pip-version-check ./bindings-python
	cd /tmp && $(PY_FRESH_VENV)/bin/python $(CURDIR)/examples/quickstart.py > /dev/null \
	  && echo "pip install ./bindings-python into a fresh virtualenv: quickstart ran from outside the repo"

test-python: $(PY_BUILD_STAMP) python-fresh-install
	cd bindings-python && $(VPY) -m mypy.stubtest messenger_handover
	$(VPY) -m mypy --strict examples/quickstart.py examples/webhook_server.py
	$(VPY) -m pytest tests/python -q

# The wheel is abi3 (CPython 3.9+). Not part of `make test` (a newcomer has
# only 3.11): `make test-python-versions` builds the wheel once and runs the
# whole suite under every python3.9 ... python3.13 found on PATH (with pyenv:
# PYENV_VERSION=3.9.18:3.10.13:3.11.7:3.12.1:3.13.0 make test-python-versions).
PY_VERSIONS ?= 3.9 3.10 3.11 3.12 3.13
.PHONY: test-python-versions
test-python-versions: $(PY_STAMP)
	rm -rf $(CARGO_TARGET_DIR)/abi3-wheel && $(VENV)/bin/maturin build -q --profile dev -m bindings-python/Cargo.toml -o $(CARGO_TARGET_DIR)/abi3-wheel
	@set -e; for v in $(PY_VERSIONS); do \
	  py=python$$v; $$py -c '' 2>/dev/null || { echo "python$$v: not found, skipped"; continue; }; \
	  env=$(CARGO_TARGET_DIR)/abi3-venv-$$v; rm -rf $$env; $$py -m venv $$env; \
	  $$env/bin/pip install -q --disable-pip-version-check $(CARGO_TARGET_DIR)/abi3-wheel/*.whl pytest pytest-asyncio nbclient ipykernel nbformat; \
	  echo "== python$$v"; (cd tests/python && $$env/bin/python -m pytest -q .); \
	done
