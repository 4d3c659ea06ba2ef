// Every error kind, from real emulator behaviour or injected faults: the
// class, `instanceof` up the chain, the properties, and no token anywhere.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import * as pkg from './helpers.mjs'

const {
  Client,
  Emulator,
  HandoverError,
  GraphApiError,
  InvalidParameterError,
  AuthError,
  PermissionDeniedError,
  ThreadControlError,
  RateLimitError,
  BlockedError,
  ServerError,
  TransportError,
  TimeoutError,
  ProtocolError,
  freshPsid,
  assertHidden,
} = pkg

let emu
before(async () => {
  emu = await Emulator.start({ conversations: 20 })
})
after(async () => {
  await emu.stop()
})
beforeEach(() => {
  emu.clearFaults()
  emu.setRateLimit({ enabled: false })
})

const secrets = () => [emu.primary.token, emu.secondary.token, emu.pageInbox.token, emu.primary.secret]

async function caught(promise) {
  try {
    await promise
  } catch (e) {
    for (const s of secrets()) assertHidden(s, e)
    return e
  }
  assert.fail('expected a rejection')
}

function graphFault(code, extra = {}, status = 400, match = { pathContains: 'thread_owner' }) {
  emu.injectFault({
    match,
    count: 1,
    action: { type: 'graph_error', status, error: { message: `(#${code}) injected`, type: 'OAuthException', code, fbtrace_id: 'TRACE1', ...extra } },
  })
}

const noRetry = () => emu.client('primary', { maxRetries: 0 })

test('the class hierarchy', () => {
  for (const C of [InvalidParameterError, AuthError, PermissionDeniedError, ThreadControlError, RateLimitError, BlockedError, ServerError]) {
    assert.ok(C.prototype instanceof GraphApiError, C.name)
  }
  assert.ok(GraphApiError.prototype instanceof HandoverError)
  assert.ok(TimeoutError.prototype instanceof TransportError)
  assert.ok(TransportError.prototype instanceof HandoverError)
  assert.ok(ProtocolError.prototype instanceof HandoverError)
  assert.ok(HandoverError.prototype instanceof Error)
  assert.ok(!(ProtocolError.prototype instanceof GraphApiError))
})

test('thread_control: a non-owner passing (real emulator rule, 10/2018300)', async () => {
  const psid = freshPsid()
  const e = await caught(emu.client('secondary').passThreadControlToPageInbox(psid))
  assert.ok(e instanceof ThreadControlError && e instanceof GraphApiError && e instanceof HandoverError && e instanceof Error)
  assert.equal(e.name, 'ThreadControlError')
  assert.equal(e.kind, 'thread_control')
  assert.equal(e.code, 10)
  assert.equal(e.subcode, 2018300)
  assert.equal(e.type, 'OAuthException')
  assert.equal(e.httpStatus, 400)
  assert.equal(e.isTransient, false)
  assert.equal(typeof e.fbtraceId, 'string')
  assert.match(e.message, /2018300/)
})

test('thread_control: only the primary can take (2018171)', async () => {
  const e = await caught(emu.client('secondary').takeThreadControl(freshPsid()))
  assert.ok(e instanceof ThreadControlError)
  assert.equal(e.code, 2018171)
})

test('permission: the secondary app reads thread_owner (code 10, HTTP 403)', async () => {
  const e = await caught(emu.client('secondary').threadOwner(freshPsid()))
  assert.ok(e instanceof PermissionDeniedError && e instanceof GraphApiError)
  assert.equal(e.kind, 'permission')
  assert.equal(e.code, 10)
  assert.equal(e.httpStatus, 403)
})

test('auth: an unknown token (190)', async () => {
  const c = new Client({ accessToken: 'EAAG-not-a-real-token-123', baseUrl: emu.url, pageId: emu.pageId })
  const e = await caught(c.threadOwner(freshPsid()))
  assertHidden('EAAG-not-a-real-token-123', e, c)
  assert.ok(e instanceof AuthError && e instanceof GraphApiError)
  assert.equal(e.kind, 'auth')
  assert.equal(e.code, 190)
})

test('invalid_parameter: code 100 from the Graph API', async () => {
  graphFault(100, { error_subcode: 33 })
  const e = await caught(noRetry().threadOwner(freshPsid()))
  assert.ok(e instanceof InvalidParameterError)
  assert.equal(e.kind, 'invalid_parameter')
  assert.equal(e.code, 100)
  assert.equal(e.subcode, 33)
  assert.equal(e.fbtraceId, 'TRACE1')
})

test('blocked: 368', async () => {
  graphFault(368, {}, 400, { pathContains: 'pass_thread_control' })
  const e = await caught(noRetry().passThreadControlToPageInbox(freshPsid()))
  assert.ok(e instanceof BlockedError)
  assert.equal(e.kind, 'blocked')
})

test('server: code 2, is_transient, and a 5xx are ServerError', async () => {
  graphFault(2, { is_transient: true }, 500)
  let e = await caught(noRetry().threadOwner(freshPsid()))
  assert.ok(e instanceof ServerError)
  assert.equal(e.kind, 'server')
  assert.equal(e.isTransient, true)
  assert.equal(e.httpStatus, 500)
  graphFault(12345, { is_transient: true })
  e = await caught(noRetry().threadOwner(freshPsid()))
  assert.ok(e instanceof ServerError)
})

test('server: a GET is retried and succeeds; a POST is not retried', async () => {
  emu.clearRequestLog()
  graphFault(1, {}, 500)
  const c = emu.client('primary', { maxRetries: 2, retryBaseDelayMs: 1 })
  assert.ok(await c.threadOwner(freshPsid()))
  assert.equal(emu.requestLog().length, 2)
  emu.clearRequestLog()
  emu.injectFault({ match: { method: 'POST' }, count: 1, action: { type: 'status', status: 503, body: '{"error":{"message":"x","code":1}}', headers: { 'content-type': 'application/json' } } })
  const e = await caught(c.passThreadControlToPageInbox(freshPsid()))
  assert.ok(e instanceof ServerError)
  assert.equal(emu.requestLog().length, 1, 'a POST the Graph API may have run is never sent twice')
})

test('rate_limit: the emulator throttles (80006); retryAfter and usage are set', async () => {
  emu.setRateLimit({ enabled: true, maxCalls: 2, windowSecs: 60, code: 80006, regainMinutes: 1 })
  await emu.client().threadOwner(freshPsid())
  await emu.client().threadOwner(freshPsid())
  emu.clearRequestLog()
  // A fresh client has seen no usage header: it sends, and the Graph API refuses.
  const e = await caught(emu.client('primary', { maxRetryWaitMs: 1000 }).threadOwner(freshPsid()))
  assert.ok(e instanceof RateLimitError && e instanceof GraphApiError)
  assert.equal(e.kind, 'rate_limit')
  assert.equal(e.code, 80006)
  assert.ok(e.retryAfter > 1, `retryAfter ${e.retryAfter}`)
  assert.equal(emu.requestLog().length, 1, 'a wait beyond maxRetryWaitMs raises at once, no retry')
  assert.ok(Array.isArray(e.usage.businessUseCase))
  assert.ok(e.usage.businessUseCase[0].estimatedTimeToRegainAccess > 0)
})

test('rate_limit: a client that saw 100% usage raises before sending', async () => {
  emu.setRateLimit({ enabled: true, maxCalls: 2, windowSecs: 60, code: 613, regainMinutes: 1 })
  const c = emu.client('primary', { maxRetryWaitMs: 1000 })
  await c.threadOwner(freshPsid())
  await c.threadOwner(freshPsid())
  assert.ok(c.lastUsage.businessUseCase[0].callCount >= 100)
  emu.clearRequestLog()
  const e = await caught(c.threadOwner(freshPsid()))
  assert.ok(e instanceof RateLimitError)
  assert.ok(e.retryAfter > 1)
  assert.equal(emu.requestLog().length, 0, 'nothing sent while throttled')
})

test('rate_limit: 613 with Retry-After 0 is retried, then succeeds', async () => {
  emu.clearRequestLog()
  emu.injectFault({
    match: { pathContains: 'take_thread_control' },
    count: 1,
    action: { type: 'graph_error', status: 400, headers: { 'retry-after': '0' }, error: { message: 'x', code: 613 } },
  })
  await emu.client('primary', { maxRetries: 1 }).takeThreadControl(freshPsid())
  assert.equal(emu.requestLog().length, 2)
})

test('transport: a connection reset', async () => {
  emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'reset' } })
  const e = await caught(noRetry().threadOwner(freshPsid()))
  assert.ok(e instanceof TransportError && e instanceof HandoverError)
  assert.ok(!(e instanceof TimeoutError))
  assert.equal(e.kind, 'transport')
})

test('transport: a reset mid-body', async () => {
  emu.clearRequestLog()
  emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'reset_mid_body' } })
  const e = await caught(noRetry().threadOwner(freshPsid()))
  assert.ok(e instanceof TransportError && !(e instanceof TimeoutError), String(e))
  assert.equal(e.kind, 'transport')
  assert.equal(emu.requestLog().length, 1)
})

// Port 0: no listener can hold it, so a connection there is refused (Linux),
// with no fixed port that something on the machine might listen on.
test('transport: nothing listens (connection refused)', async () => {
  const c = new Client({ accessToken: 'EAAG-refused', baseUrl: 'http://127.0.0.1:0', maxRetries: 0 })
  const e = await caught(c.threadOwner('1'))
  assert.ok(e instanceof TransportError)
  assert.equal(e.code, 'ECONNREFUSED')
})

test('timeout: no answer within timeoutMs is a TimeoutError', async () => {
  emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'delay', ms: 20_000 } })
  const t0 = Date.now()
  const e = await caught(emu.client('primary', { timeoutMs: 200, maxRetries: 0 }).threadOwner(freshPsid()))
  assert.ok(Date.now() - t0 < 10_000, 'not the 20 s delay')
  assert.ok(e instanceof TimeoutError && e instanceof TransportError && e instanceof HandoverError)
  assert.equal(e.kind, 'transport')
  assert.equal(e.name, 'TimeoutError')
})

test('an HTML 502 page is a ServerError; a truncated body is a ProtocolError', async () => {
  emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'malformed', status: 502, body: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' } })
  emu.clearRequestLog()
  let e = await caught(noRetry().threadOwner(freshPsid()))
  // Every HTTP 5xx is `server`, whatever its body (DESIGN's error table).
  assert.ok(e instanceof ServerError, String(e))
  assert.equal(e.httpStatus, 502)
  assert.ok(!e.message.includes('<html'), e.message)
  assert.equal(emu.requestLog().length, 1)
  emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'malformed', status: 200, body: '{"data": [' } })
  e = await caught(noRetry().threadOwner(freshPsid()))
  assert.ok(e instanceof ProtocolError && e instanceof HandoverError)
  assert.ok(!(e instanceof GraphApiError))
  assert.equal(e.kind, 'protocol')
  assert.equal(e.httpStatus, 200)
})

test('errors inspect cleanly, with their fields and no token', async () => {
  const e = await caught(emu.client('secondary').takeThreadControl(freshPsid()))
  const shown = inspect(e)
  assert.match(shown, /ThreadControlError/)
  assert.match(shown, /kind: 'thread_control'/)
  for (const s of secrets()) assert.ok(!shown.includes(s))
})
