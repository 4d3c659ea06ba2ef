// The shared fault scenarios (tests/faults/scenarios.json, described in the
// README beside it) through the Node client, against the emulator: the
// outcome, its kind, and how many requests the emulator saw.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { Emulator, HandoverError, TimeoutError } from './helpers.mjs'

const PSID = '2468013579'
const { scenarios } = JSON.parse(readFileSync(new URL('../faults/scenarios.json', import.meta.url), 'utf8'))

let emu
before(async () => {
  emu = await Emulator.start({ conversations: 10 })
})
after(async () => {
  await emu.stop()
})

const CALLS = {
  thread_owner: (c) => c.threadOwner(PSID),
  secondary_receivers: (c) => c.secondaryReceivers(),
  conversations_page: async (c) => {
    const pager = c.conversations()
    try {
      return await pager.nextPage()
    } finally {
      pager.close()
    }
  },
  pass_thread_control_to_page_inbox: (c) => c.passThreadControlToPageInbox(PSID),
  take_thread_control: (c) => c.takeThreadControl(PSID),
  request_thread_control: (c) => c.requestThreadControl(PSID),
  release_thread_control: (c) => c.releaseThreadControl(PSID),
  extend_thread_control: (c) => c.extendThreadControl(PSID, 60),
}

async function run(client, op) {
  const call = CALLS[op]
  assert.ok(call, `unknown operation ${op}`)
  const t0 = performance.now()
  try {
    await call(client)
    return { err: null, took: performance.now() - t0 }
  } catch (err) {
    return { err, took: performance.now() - t0 }
  }
}

function check(what, expect, { err, took }) {
  if ('kind' in expect && expect.kind === null) {
    assert.equal(err, null, `${what}: expected success, got ${inspect(err)}`)
  } else {
    assert.ok(err instanceof HandoverError, `${what}: expected an error, got ${inspect(err)}`)
    if ('kind' in expect) assert.equal(err.kind, expect.kind, `${what}: ${inspect(err)}`)
    if ('timeout' in expect) assert.equal(err instanceof TimeoutError, expect.timeout, `${what}: ${inspect(err)}`)
    if ('http_status' in expect) assert.equal(err.httpStatus, expect.http_status, `${what}: ${inspect(err)}`)
    if ('code' in expect) assert.equal(err.code, expect.code, `${what}: ${inspect(err)}`)
    if ('retry_after' in expect) {
      assert.ok(Math.abs(err.retryAfter - expect.retry_after) < 1e-6, `${what}: retryAfter ${err.retryAfter}`)
    }
  }
  if ('min_elapsed_ms' in expect) assert.ok(took >= expect.min_elapsed_ms, `${what}: took ${took} ms`)
  if ('max_elapsed_ms' in expect) assert.ok(took < expect.max_elapsed_ms, `${what}: took ${took} ms, not at once`)
}

test('the scenarios load', () => {
  assert.ok(scenarios.length >= 40, `only ${scenarios.length} scenarios`)
})

for (const s of scenarios) {
  for (const op of s.operations) {
    test(`${s.name} / ${op}`, { skip: s.pending ? `pending: ${s.pending}` : false }, async () => {
      emu.reset()
      for (const f of s.faults) emu.injectFault(f)
      const c = s.client ?? {}
      const options = { retryBaseDelayMs: 5 }
      if ('max_retries' in c) options.maxRetries = c.max_retries
      if ('timeout_ms' in c) options.timeoutMs = c.timeout_ms
      if ('max_retry_wait_ms' in c) options.maxRetryWaitMs = c.max_retry_wait_ms
      if ('max_response_bytes' in c) options.maxResponseBytes = c.max_response_bytes
      const client = emu.client('primary', options)
      const what = `${s.name} / ${op}`
      const log = () => JSON.stringify(emu.requestLog().map((r) => [r.method, r.status, r.fault]))
      try {
        const e = s.expect
        check(what, e, await run(client, op))
        assert.equal(emu.requestLog().length, e.requests, `${what}: ${log()}`)
        if ('settle_ms' in e) {
          await sleep(e.settle_ms)
          assert.equal(emu.requestLog().length, e.requests, `${what}: after settling: ${log()}`)
        }
        if ('owner' in e) assert.equal(emu.state().threads[PSID].owner, e.owner, `${what}: owner`)
        if (e.then) {
          check(`${what}, then ${e.then.operation}`, e.then, await run(client, e.then.operation))
          assert.equal(emu.requestLog().length, e.then.requests, `${what}, then: ${log()}`)
        }
      } finally {
        client.close()
      }
    })
  }
}
