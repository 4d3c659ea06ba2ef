# Node package targets: the native addon (napi-rs) in bindings-node/, its
# suite in tests/node/, the quickstart in examples/. Included by the Makefile,
# which exports CARGO_TARGET_DIR (one shared target dir).
.PHONY: demo-node test-node node-deps node-build node-dts-check node-dts node-types node-pack node-suite

NODE_DIR := $(CURDIR)/bindings-node
NAPI := $(NODE_DIR)/node_modules/.bin/napi
TSC := $(NODE_DIR)/node_modules/.bin/tsc
NODE_GEN := $(NODE_DIR)/.napi-gen

# The quickstart against the embedded emulator (or a real Page when
# PAGE_ACCESS_TOKEN is set), importing the package by name.
demo-node: node-build
	@mkdir -p examples/node_modules && ln -sfn ../../bindings-node examples/node_modules/messenger-handover
	@echo "== Node: examples/quickstart.mjs =="
	@node examples/quickstart.mjs
	@echo; echo "== Node: examples/webhook_server.mjs (signed handover webhooks, one round trip) =="
	@node examples/webhook_server.mjs

# From a clean clone: deps, addon, .d.ts drift, types, pack + install, suite.
test-node: node-build node-dts-check node-types node-pack node-suite

node-deps: $(NODE_DIR)/node_modules/.package-lock.json

$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package.json $(wildcard $(NODE_DIR)/package-lock.json)
	@# npm ci checks that the lock lists every platform's optional packages
	@# (@napi-rs/cli's); a registry mirror that serves only this platform's
	@# makes it refuse, and npm install from the same lock is the fallback.
	cd $(NODE_DIR) && if [ -f package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 \
	  || { echo "npm ci refused the lock; npm install from it instead"; npm install --no-audit --no-fund --loglevel=error; }; \
	else npm install --no-audit --no-fund --loglevel=error; fi
	@touch $@

# Debug build; the .node lands in bindings-node/, the generated loader is
# native-loader.js (native.js wraps it with a clearer error),
# and the generated types go to .napi-gen/ to be compared with the
# committed native.d.ts.
node-build: node-deps
	cd $(NODE_DIR) && $(NAPI) build --platform --js native-loader.js --dts .napi-gen/native.d.ts

node-dts-check: node-build
	@if diff -u $(NODE_DIR)/native.d.ts $(NODE_GEN)/native.d.ts; then \
	  echo "native.d.ts: no drift"; \
	else \
	  echo "bindings-node/native.d.ts differs from what the addon generates: run 'make node-dts' and commit it" >&2; exit 1; \
	fi

# Accepts the generated native types after a deliberate change to the Rust API.
node-dts: node-build
	cp $(NODE_GEN)/native.d.ts $(NODE_DIR)/native.d.ts

# The typed quickstart against the public .d.ts files.
node-types: node-deps
	cd $(NODE_DIR) && $(TSC) -p tsconfig.json && echo "tsc --noEmit --strict examples/quickstart.ts: ok"

# `npm pack`, install the tarball into an empty directory without the
# registry, and run the quickstart from there through import and require.
node-pack: node-build
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd $(NODE_DIR) && npm pack --silent --pack-destination "$$tmp" >/dev/null); \
	tgz=$$(ls "$$tmp"/messenger-handover-*.tgz); \
	mkdir "$$tmp/app"; cp examples/quickstart.mjs examples/quickstart.cjs "$$tmp/app/"; \
	cd "$$tmp/app"; echo '{"name":"pack-check","private":true}' > package.json; \
	npm install --offline --no-audit --no-fund --silent "$$tgz"; \
	node quickstart.mjs >quickstart-mjs.log 2>&1 || { cat quickstart-mjs.log; exit 1; }; \
	node quickstart.cjs >quickstart-cjs.log 2>&1 || { cat quickstart-cjs.log; exit 1; }; \
	echo "npm pack: $$(basename $$tgz) ($$(du -h "$$tgz" | cut -f1)) installs and runs the quickstart via import and require"

node-suite: node-build
	node --test tests/node/
