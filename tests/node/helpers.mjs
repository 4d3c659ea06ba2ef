// Shared bits of the Node suite: the package under test (from the source
// tree, built by `napi build`), and small assertion helpers.
import { inspect } from 'node:util'
import assert from 'node:assert/strict'

export * from '../../bindings-node/index.mjs'
export { Emulator, ScriptedServer } from '../../bindings-node/testing.mjs'

/** A PSID with no state yet in the emulator. */
let next = 1_000_000_000_000_000
export function freshPsid() {
  next += 1
  return String(next)
}

/** Asserts `secret` appears in no message, stack or inspect output of `values`. */
export function assertHidden(secret, ...values) {
  for (const v of values) {
    const texts = [inspect(v, { depth: 10, showHidden: true })]
    if (v instanceof Error) texts.push(v.message, String(v.stack))
    try {
      texts.push(JSON.stringify(v) ?? '')
    } catch {
      // circular: inspect covered it
    }
    for (const t of texts) assert.ok(!t.includes(secret), `a secret leaked into: ${t.slice(0, 200)}`)
  }
}
