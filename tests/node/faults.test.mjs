// The fault and throttle scenarios (issue 6), through the Node client: the
// outcome, and how many requests the emulator saw. A POST the Graph API may
// have run is never sent twice.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { Emulator, RateLimitError, ServerError, TransportError, TimeoutError, ProtocolError, freshPsid } from './helpers.mjs'

let emu
before(async () => {
  emu = await Emulator.start({ conversations: 10 })
})
after(async () => {
  await emu.stop()
})
beforeEach(() => {
  emu.clearFaults()
  emu.clearRequestLog()
  emu.setRateLimit({ enabled: false })
})

const client = (opts = {}) => emu.client('primary', { maxRetries: 3, retryBaseDelayMs: 5, ...opts })
const HTML = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>'
const GET = { method: 'GET', pathContains: 'thread_owner' }
const POST = { method: 'POST', pathContains: 'pass_thread_control' }
const get = (c) => c.threadOwner(freshPsid())
const post = (c) => c.passThreadControlToPageInbox(freshPsid())

const scenarios = [
  ['5xx burst on a GET: retried, then success', GET, 2, { type: 'status', status: 503, body: '' }, get, null, 3],
  ['5xx Graph error burst longer than the retries: ServerError', GET, 5, { type: 'graph_error', status: 500, error: { message: 'x', code: 1, is_transient: true } }, get, ServerError, 4],
  ['empty 5xx burst longer than the retries: ServerError (a 5xx is server whatever its body)', GET, 5, { type: 'status', status: 500, body: '' }, get, ServerError, 4],
  ['5xx on a POST: not retried', POST, 1, { type: 'graph_error', status: 503, error: { message: 'x', code: 2 } }, post, ServerError, 1],
  ['empty 502 on a POST: not retried', POST, 1, { type: 'status', status: 502, body: '' }, post, ServerError, 1],
  ['reset on a GET: retried', GET, 1, { type: 'reset' }, get, null, 2],
  ['reset on a POST: not sent twice', POST, 1, { type: 'reset' }, post, TransportError, 1],
  ['reset mid-body on a GET: retried', GET, 1, { type: 'reset_mid_body' }, get, null, 2],
  ['reset mid-body on a POST: not sent twice', POST, 1, { type: 'reset_mid_body' }, post, [TransportError, ProtocolError], 1],
  ['HTML 502 page on a GET: retried, then success', GET, 1, { type: 'malformed', status: 502, body: HTML, contentType: 'text/html' }, get, null, 2],
  ['truncated JSON 200 on a GET', GET, 1, { type: 'malformed', status: 200, body: '{"data":[{"thread_owner":' }, get, [ProtocolError, null], null],
  ['613 burst with Retry-After 0 on a POST: retried (not run)', POST, 2, { type: 'graph_error', status: 400, headers: { 'retry-after': '0' }, error: { message: 'x', code: 613 } }, post, null, 3],
  ['80006 with a long regain time: RateLimitError at once', GET, 1, { type: 'graph_error', status: 400, headers: { 'x-business-use-case-usage': '{"104729384756102":[{"type":"messenger","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":30}]}' }, error: { message: 'x', code: 80006 } }, get, RateLimitError, 1],
]

for (const [name, match, count, action, call, expected, requests] of scenarios) {
  test(name, async () => {
    emu.injectFault({ match, count, action })
    const c = client()
    let outcome = null
    try {
      await call(c)
    } catch (e) {
      outcome = e
    }
    const allowed = Array.isArray(expected) ? expected : [expected]
    assert.ok(
      allowed.some((E) => (E === null ? outcome === null : outcome instanceof E)),
      `got ${outcome}`,
    )
    if (requests !== null) assert.equal(emu.requestLog().length, requests, JSON.stringify(emu.requestLog().map((r) => [r.status, r.fault])))
    if (outcome instanceof RateLimitError) assert.ok(outcome.retryAfter >= 60 * 30 - 1, `retryAfter ${outcome.retryAfter}`)
  })
}

test('a delay past the timeout: TimeoutError per attempt, GET retried', async () => {
  emu.injectFault({ match: GET, count: 1, action: { type: 'delay', ms: 2000 } })
  const owner = await client({ timeoutMs: 300 }).threadOwner(freshPsid())
  assert.ok(owner)
  assert.equal(emu.requestLog().length >= 1, true)
  emu.injectFault({ match: GET, count: 1, action: { type: 'delay', ms: 2000 } })
  await assert.rejects(client({ timeoutMs: 300, maxRetries: 0 }).threadOwner(freshPsid()), TimeoutError)
})

test('a delay past the timeout on a POST: not sent twice', async () => {
  emu.injectFault({ match: POST, count: 1, action: { type: 'delay', ms: 1500 } })
  await assert.rejects(client({ timeoutMs: 300 }).passThreadControlToPageInbox(freshPsid()), TimeoutError)
  await new Promise((r) => setTimeout(r, 1500))
  // The emulator logs a request when it answers; one whose client hung up
  // during the delay may not be logged at all. Never twice, though.
  assert.ok(emu.requestLog().filter((r) => r.method === 'POST').length <= 1)
})
