# Benchmarks (owned by the bench work; see bench/README.md).
#   make bench        release builds of both packages + peers, then every client on every workload
#   make bench-quick  same setup, a 30-second smoke run (1 round, small counts), writes nothing
#   BENCH_ARGS="--only node --rounds 1" make bench   pass options to bench/run.py
# Everything it installs lives under bench/ (bench/.venv, bench/node_modules); the
# release artefacts share $(CARGO_TARGET_DIR) with the rest of the build.

export CARGO_TARGET_DIR ?= $(CURDIR)/target
CARGO ?= cargo
PYTHON ?= python3
BENCH_DIR := $(CURDIR)/bench
BENCH_VENV := $(BENCH_DIR)/.venv
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_ARGS ?=
# Heavy builds run at low priority so a developer's machine stays usable.
BENCH_NICE ?= nice -n 10

.PHONY: bench bench-quick bench-setup bench-wrk bench-python bench-node bench-rust

bench: bench-setup
	$(BENCH_PY) $(BENCH_DIR)/run.py $(BENCH_ARGS)

bench-quick: bench-setup
	$(BENCH_PY) $(BENCH_DIR)/run.py --quick --no-write $(BENCH_ARGS)

bench-setup: bench-wrk bench-python bench-node bench-rust

# wrk is a Debian package; install it when we can (root + apt), else skip its rows.
bench-wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }; \
	} || echo "bench: wrk is not installable here; its floor rows will be skipped"

$(BENCH_PY):
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --upgrade pip

# Peers, then this project's package built by maturin through pip: release
# profile (maturin's default), CARGO_TARGET_DIR shared with the workspace.
bench-python: $(BENCH_PY)
	$(BENCH_PY) -m pip install -q -r $(BENCH_DIR)/requirements.txt
	$(BENCH_NICE) $(BENCH_PY) -m pip install -q --force-reinstall ./bindings-python

# The Node addon in release mode, through the binding's own build script (which
# names its generated loader native.js: a bare `napi build` would overwrite the
# hand-written index.js), with the output sent to bench/.mh-node/ so that the
# binding's own debug builds in bindings-node/ neither clobber it nor get
# clobbered. run.py loads bindings-node/index.js with NAPI_RS_NATIVE_LIBRARY_PATH
# pointing at this release .node. bindings-node's dependencies come from
# node-deps (mk/node.mk: `npm ci`, or `npm install` from the lock when npm ci
# refuses it, as it does from a fresh clone); then the Node peers here, the same way.
bench-node: node-deps
	cd bindings-node && $(BENCH_NICE) npm run build -- --release --output-dir $(BENCH_DIR)/.mh-node
	cd $(BENCH_DIR) && { npm ci --no-audit --no-fund --loglevel=error || \
	  { echo "bench: npm ci refused bench/package-lock.json; npm install from it instead"; \
	    npm install --no-audit --no-fund --loglevel=error; }; }

# bench-server, the raw-reqwest floor and the Rust-core runner. Not a workspace
# member: `cargo test --workspace` never sees it. If the core does not build,
# the floor and the server still do (the rust-core row is then skipped).
# The Makefile's CARGO_BUILD_TARGET puts them in $(CARGO_TARGET_DIR)/<triple>/release,
# where run.py looks first.
BENCH_RELEASE := $(RELEASE_DIR)
bench-rust:
	cd $(BENCH_DIR)/rust-floor && { $(BENCH_NICE) $(CARGO) build -q --release --features core || \
	  { echo "bench: rust-core runner not built (core failed to build); continuing without it"; \
	    rm -f $(BENCH_RELEASE)/rust-core; \
	    $(BENCH_NICE) $(CARGO) build -q --release; }; }
