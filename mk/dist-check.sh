#!/usr/bin/env bash
# `make dist-check`: install what `make dist` built the way a user without Rust
# does, and use it. Everything runs from a fresh temporary directory, with every
# PATH entry that holds cargo or rustc removed, and with no registry: pip gets
# --no-index (our wheel from dist/, pytest from a wheelhouse fetched beforehand)
# and npm --offline with an empty cache (the two tarballs only).
# Env from mk/dist.mk: DIST, WHEELHOUSE, PYTHON, TSC, NODE_TYPES.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${DIST:?}" "${WHEELHOUSE:?}" "${PYTHON:=python3}" "${TSC:?}" "${NODE_TYPES:?}"

# Resolve the tools we keep before PATH loses anything.
PYTHON=$(command -v "$PYTHON")
NODE=$(command -v node)
NPM=$(command -v npm)
clean=""
IFS=: read -ra parts <<<"$PATH"
for d in "${parts[@]}"; do
  [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || clean="${clean:+$clean:}$d"
done
export PATH=$clean
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET PYO3_PYTHON RUSTUP_TOOLCHAIN CARGO_HOME RUSTUP_HOME
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
  echo "dist-check: cargo or rustc is still on PATH" >&2; exit 1
fi
echo "dist-check: PATH without cargo and rustc; no registry"

tmp=$(mktemp -d /tmp/mh-dist-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
wheel=$(ls "$DIST"/messenger_handover-*.whl)
root_tgz=$(ls "$DIST"/messenger-handover-[0-9]*.tgz)
plat_tgz=$(ls "$DIST"/messenger-handover-linux-x64-gnu-*.tgz)

# ---- Python
"$PYTHON" -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check --no-index --find-links "$DIST" messenger-handover
"$py" -m pip install -q --disable-pip-version-check --no-index --find-links "$WHEELHOUSE" pytest
echo "python: installed $(basename "$wheel") into a fresh virtualenv (pip --no-index)"
(cd "$tmp" && "$py" "$ROOT/examples/quickstart.py" >py-quickstart.log 2>&1) || { cat "$tmp/py-quickstart.log"; exit 1; }
echo "python: examples/quickstart.py ran"
mkdir "$tmp/pytest" && cat >"$tmp/pytest/test_plugin.py" <<'PY'
import pytest


def test_fixture_is_a_running_emulator(emulator):
    client = emulator.client()
    client.pass_thread_control_to_page_inbox("4519738205716384")
    assert client.thread_owner("4519738205716384").app_id == "263902037430900"
    assert all(c.id for c in client.conversations())
    assert emulator.mode == "handover"


@pytest.mark.emulator(mode="routing", conversations=7)
def test_marker_configures_it(emulator):
    assert emulator.mode == "routing"
    assert 0 < sum(1 for _ in emulator.client().conversations()) <= 7
PY
(cd "$tmp/pytest" && "$py" -m pytest -q -p no:cacheprovider . >pytest.log 2>&1) || { cat "$tmp/pytest/pytest.log"; exit 1; }
tail -1 "$tmp/pytest/pytest.log"
echo "python: the pytest plugin's emulator fixture works from the installed wheel"
if [ -x "$tmp/venv/bin/messenger-handover" ]; then
  "$tmp/venv/bin/messenger-handover" --help >/dev/null && echo "python: the messenger-handover command runs"
fi

# ---- Node
app="$tmp/app"
mkdir "$app" && cd "$app"
echo '{"name":"dist-check","private":true,"type":"commonjs"}' >package.json
"$NPM" install --offline --cache "$tmp/npm-cache" --no-audit --no-fund --loglevel=error "$root_tgz" "$plat_tgz"
[ ! -e node_modules/messenger-handover/messenger-handover.linux-x64-gnu.node ] \
  || { echo "dist-check: the root package carries a binary" >&2; exit 1; }
echo "node: installed $(basename "$root_tgz") + $(basename "$plat_tgz") into an empty project (npm --offline, empty cache)"
cp "$ROOT/examples/quickstart.mjs" "$ROOT/examples/quickstart.cjs" "$ROOT/examples/quickstart.ts" .
"$NODE" quickstart.mjs >mjs.log 2>&1 || { cat mjs.log; exit 1; }
"$NODE" quickstart.cjs >cjs.log 2>&1 || { cat cjs.log; exit 1; }
echo "node: the quickstart ran through import and through require"
cat >tsconfig.json <<JSON
{"compilerOptions": {"strict": true, "noEmit": true, "target": "ES2022", "lib": ["ES2022"],
  "module": "NodeNext", "moduleResolution": "NodeNext", "types": ["node"],
  "typeRoots": ["$NODE_TYPES"], "skipLibCheck": false},
 "files": ["quickstart.ts"]}
JSON
"$NODE" "$TSC" -p tsconfig.json
echo "node: tsc --strict checks quickstart.ts against the installed types"
cat >helper.mjs <<'JS'
import assert from 'node:assert/strict'
import { Emulator } from 'messenger-handover/testing'
import { verifySignature } from 'messenger-handover/webhooks'
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
assert.equal(typeof require('messenger-handover/webhooks').verifySignature, 'function')
assert.equal(typeof verifySignature, 'function')
const emu = await Emulator.start({ conversations: 7 })
const client = emu.client('primary')
let n = 0
for await (const c of client.conversations()) n += c.id ? 1 : 0
assert.ok(n > 0 && n <= 7, `${n} conversations`)
await client.passThreadControlToPageInbox('4519738205716384')
assert.equal((await client.threadOwner('4519738205716384'))?.appId, '263902037430900')
await emu.stop()
console.log('ok')
JS
"$NODE" helper.mjs >helper.log 2>&1 || { cat helper.log; exit 1; }
echo "node: messenger-handover/testing (Emulator) and messenger-handover/webhooks work from the tarballs"
if [ -x node_modules/.bin/messenger-handover ]; then
  node_modules/.bin/messenger-handover --help >/dev/null && echo "node: the messenger-handover command runs"
fi

# The loader's error when npm skipped the platform package (npm/cli#4828).
rm -rf node_modules/messenger-handover-linux-x64-gnu
msg=$("$NODE" -e "require('messenger-handover')" 2>&1 || true)
grep -q 'npm install messenger-handover-linux-x64-gnu@' <<<"$msg" \
  || { echo "dist-check: without the platform package the error does not say how to fix it:" >&2; echo "$msg" >&2; exit 1; }
echo "node: without messenger-handover-linux-x64-gnu, require() says to install it"
echo "dist-check: all passed"
