// Hostile servers and careless callers (issue 11), through the Node
// package: each test pins one behaviour that did not hold, against the
// emulator's fault injection over real HTTP on 127.0.0.1. The Rust side is
// core/tests/hostile.rs; docs/RELIABILITY.md lists what each test proves.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import { inspect } from 'node:util'
import {
  Emulator,
  GraphApiError,
  ProtocolError,
  RateLimitError,
  ServerError,
  WebhookError,
  createWebhookHandler,
  parseEvents,
  signWebhookBody,
  verifySignature,
  verifySubscription,
  assertHidden,
} from './helpers.mjs'

const PSID = '2468013579'
// Generous: these calls must end at once, but CI is a loaded 2-core box.
const PROMPTLY_MS = 20_000

let emu
let elsewhere
before(async () => {
  emu = await Emulator.start({ conversations: 10 })
  elsewhere = await Emulator.start({ conversations: 1 })
})
after(async () => {
  await emu.stop()
  await elsewhere.stop()
})
beforeEach(() => {
  emu.clearFaults()
  emu.clearRequestLog()
})

const client = (opts = {}) => emu.client('primary', { retryBaseDelayMs: 5, ...opts })
const seen = (method, edge) => emu.requestLog().filter((r) => r.method === method && r.path.endsWith(edge)).length
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/** The error a call must fail with. */
const failure = (promise, what) =>
  promise.then(
    () => assert.fail(`${what}: succeeded`),
    (e) => e,
  )

async function within(ms, promise, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

// ------------------------------------------------------------ 2. redirects

test('redirects are never followed: a 3xx is a ProtocolError, not retried, the target never reached', async () => {
  const c = client()
  for (const status of [301, 302, 303, 307, 308]) {
    for (const [method, edge, call] of [
      ['GET', 'thread_owner', () => c.threadOwner(PSID)],
      ['POST', 'take_thread_control', () => c.takeThreadControl(PSID, { metadata: 'metadata' })],
    ]) {
      emu.clearFaults()
      emu.clearRequestLog()
      const location = `${elsewhere.url}/v26.0/${emu.pageId}/${edge}?recipient=${PSID}`
      emu.injectFault({ match: { method }, count: 5, action: { type: 'status', status, headers: { Location: location } } })
      await assert.rejects(call(), (e) => e instanceof ProtocolError && e.httpStatus === status, `${status} ${method}`)
      assert.equal(seen(method, edge), 1, `${status} ${method}: a 3xx is never retried`)
    }
  }
  assert.deepEqual(elsewhere.requestLog(), [], 'the redirect target was reached')
})

// ------------------------------------------------ 3. response strings redacted

test('every string of an error body is redacted, not only message', async () => {
  const token = emu.primary.token
  const echo = `echo ${token} echo`
  emu.injectFault({
    match: { method: 'GET' },
    action: {
      type: 'graph_error',
      status: 400,
      error: { message: echo, type: echo, code: 100, fbtrace_id: echo, error_user_title: echo, error_user_msg: echo },
    },
  })
  const err = await failure(client().threadOwner(PSID), 'the fault answers')
  assert.ok(err instanceof GraphApiError, String(err))
  for (const field of [err.graphMessage, err.type, err.fbtraceId, err.userTitle, err.userMessage]) {
    assert.ok(typeof field === 'string' && field.includes('echo'), String(field))
  }
  assertHidden(token, err)

  emu.injectFault({ match: { method: 'GET' }, action: { type: 'malformed', status: 200, body: JSON.stringify({ data: echo }) } })
  const shape = await failure(client().threadOwner(PSID), 'wrong shape')
  assert.ok(shape instanceof ProtocolError, String(shape))
  assertHidden(token, shape)
})

// --------------------------------------------------------- 4. webhook secrets

const BODY = Buffer.from('{"object":"page","entry":[]}')

test('an empty app secret or verify token is refused where the verifier is made', () => {
  for (const empty of ['', '   ']) {
    assert.throws(() => verifySignature(empty, BODY, signWebhookBody(empty, BODY)), TypeError)
    assert.throws(() => createWebhookHandler({ appSecret: empty }), TypeError)
    assert.throws(() => createWebhookHandler({ appSecret: 's3cret', verifyToken: empty }), TypeError)
    const q = `hub.mode=subscribe&hub.verify_token=${encodeURIComponent(empty)}&hub.challenge=42`
    assert.throws(() => verifySubscription(q, empty), TypeError)
  }
  assert.equal(verifySignature('s3cret', BODY, signWebhookBody('s3cret', BODY)), true)
  assert.equal(verifySubscription('hub.mode=subscribe&hub.verify_token=tok&hub.challenge=42', 'tok'), '42')
})

async function listen(handler) {
  const server = http.createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: server.address().port, url: `http://127.0.0.1:${server.address().port}/webhook` }
}

test('a bad signature is answered 403, as the Python handler does', async () => {
  const { server, url } = await listen(createWebhookHandler({ appSecret: 's3cret' }))
  try {
    const res = await fetch(url, { method: 'POST', body: BODY, headers: { 'x-hub-signature-256': 'sha256=00' } })
    assert.equal(res.status, 403)
    await res.arrayBuffer()
  } finally {
    server.close()
  }
})

test('an oversized webhook body is answered 413, not a reset', async () => {
  const { server, url } = await listen(createWebhookHandler({ appSecret: 's3cret', maxBodyBytes: 1024 }))
  try {
    for (const size of [4096, 4 * 1024 * 1024]) {
      const body = Buffer.alloc(size, 'a')
      const res = await fetch(url, { method: 'POST', body, headers: { 'x-hub-signature-256': signWebhookBody('s3cret', body) } })
      assert.equal(res.status, 413, `${size} bytes`)
      await res.arrayBuffer()
    }
  } finally {
    server.closeAllConnections()
    server.close()
  }
})

test('a webhook body that stalls is answered 408 within the body timeout', async () => {
  const { server, port } = await listen(createWebhookHandler({ appSecret: 's3cret', bodyTimeoutMs: 300 }))
  try {
    const socket = net.connect(port, '127.0.0.1')
    await once(socket, 'connect')
    // Headers promise 100 bytes; 10 arrive, then nothing.
    socket.write('POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789')
    let answer = ''
    socket.on('data', (d) => {
      answer += d
    })
    await within(PROMPTLY_MS, once(socket, 'close'), 'the stalled body')
    assert.match(answer, /^HTTP\/1\.1 408 /)
  } finally {
    server.closeAllConnections()
    server.close()
  }
})

// ----------------------------------------------------------- 8. absurd waits

function throttleFault(retryAfter, regain) {
  const headers = {}
  if (retryAfter !== undefined) headers['Retry-After'] = retryAfter
  if (regain !== undefined) {
    headers['X-Business-Use-Case-Usage'] = JSON.stringify({
      [emu.pageId]: [{ type: 'messenger', call_count: 100, total_cputime: 1, total_time: 1, estimated_time_to_regain_access: regain }],
    })
  }
  return {
    match: { method: 'GET' },
    count: 10,
    action: { type: 'graph_error', status: 400, headers, error: { message: '(#613) Calls to this api have exceeded the rate limit.', code: 613 } },
  }
}

for (const [what, retryAfter, regain] of [
  ['Retry-After 1e30', '1e30', undefined],
  ['Retry-After 99999', '99999', undefined],
  ['Retry-After garbage', 'soon', undefined],
  ['Retry-After negative', '-5', undefined],
  ['regain 1e308 minutes', undefined, 1e308],
]) {
  test(`${what}: RateLimitError at once, not retried`, async () => {
    emu.injectFault(throttleFault(retryAfter, regain))
    const err = await within(PROMPTLY_MS, failure(client({ maxRetries: 3 }).threadOwner(PSID), what), what)
    assert.ok(err instanceof RateLimitError, String(err))
    assert.ok(err.retryAfter > 60, `retryAfter ${err.retryAfter}`)
    assert.equal(seen('GET', 'thread_owner'), 1, 'retried instead of failing at once')
  })
}

// ------------------------------------------------- 9. close() ends backoff

test('close() ends a call waiting in backoff, with an error that is not retried', async () => {
  const c = client({ maxRetries: 100, retryBaseDelayMs: 2000 })
  emu.injectFault({
    match: { method: 'GET' },
    count: 1000,
    // Retry-After fixes each wait at 30 s: a jittered backoff alone may end
    // before close() and let a retry out.
    action: {
      type: 'status',
      status: 503,
      headers: { 'Retry-After': '30' },
      body: '{"error":{"message":"down","code":2,"is_transient":true}}',
    },
  })
  const call = failure(c.threadOwner(PSID), 'a closed client answers nothing')
  while (seen('GET', 'thread_owner') === 0) await sleep(10)
  await sleep(100)
  c.close()
  const err = await within(PROMPTLY_MS, call, 'the call after close()')
  assert.ok(!(err instanceof ServerError), `the server error came back instead: ${err}`)
  assert.equal(seen('GET', 'thread_owner'), 1, 'the closed error was retried')
})

// ------------------------------------------------ 11. connections capped

async function mostInFlight(c, calls) {
  emu.injectFault({ match: { method: 'GET' }, count: calls, action: { type: 'delay', ms: 400 } })
  let done = 0
  const all = Array.from({ length: calls }, () => c.threadOwner(PSID).finally(() => (done += 1)))
  let most = 0
  const deadline = Date.now() + 120_000
  while (done < calls) {
    // Status 0: arrived and held by the delay, not answered yet.
    most = Math.max(most, emu.requestLog().filter((r) => r.status === 0).length)
    assert.ok(Date.now() < deadline, 'calls did not finish')
    await sleep(20)
  }
  await Promise.all(all) // every queued call completes
  return most
}

test('connections in flight are capped by maxConnections; calls beyond it queue', async () => {
  const most = await mostInFlight(client({ maxConnections: 3 }), 12)
  assert.ok(most >= 1 && most <= 3, `${most} requests in flight with maxConnections 3`)
  assert.equal(seen('GET', 'thread_owner'), 12)
  assert.throws(() => client({ maxConnections: 0 }), RangeError)
})

test('connections in flight default to 100', async () => {
  const most = await mostInFlight(client(), 130)
  assert.ok(most <= 100, `${most} requests in flight with the default cap`)
})

// ------------------------------------------------- 12. exact numeric ids

async function ownerFrom(appId) {
  const body = `{"data":[{"thread_owner":{"app_id":${appId}}}]}`
  emu.injectFault({ match: { method: 'GET' }, action: { type: 'malformed', status: 200, body } })
  const owner = await client().threadOwner(PSID)
  return owner.appId
}

test('numeric ids keep every digit; fractional or negative ones are ProtocolError', async () => {
  for (const exact of ['263902037430900', '18446744073709551615', '263902037430900123456789']) {
    assert.equal(await ownerFrom(exact), exact)
  }
  for (const bad of ['1.5', '-5', '2.5e3']) {
    await assert.rejects(ownerFrom(bad), ProtocolError, bad)
  }
})

test('webhook event ids keep every digit; fractional or negative ones are refused', () => {
  const batch = (appId) =>
    `{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1,"pass_thread_control":{"new_owner_app_id":${appId}}}]}]}`
  const [event] = parseEvents(batch('18446744073709551615'))
  assert.equal(event.newOwnerAppId, '18446744073709551615', inspect(event))
  for (const bad of ['1.5', '-5']) assert.throws(() => parseEvents(batch(bad)), WebhookError, bad)
})
