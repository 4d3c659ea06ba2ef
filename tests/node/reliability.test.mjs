// Reliability and security of the Node package (issue 6): the fault and
// throttle suite of core/tests/faults.rs through the Node client, a scan of
// every string the package can produce for the token and the app secret, and
// abort mid-backoff / exit by itself with a client open.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { inspect } from 'node:util'
import { fileURLToPath } from 'node:url'
import {
  Client,
  Emulator,
  HandoverError,
  ServerError,
  TransportError,
  TimeoutError,
  ProtocolError,
  RateLimitError,
} from './helpers.mjs'

const TESTING = fileURLToPath(new URL('../../bindings-node/testing.js', import.meta.url))
const PSID = '2468013579'
const UNAVAILABLE = JSON.stringify({
  error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2, is_transient: true, fbtrace_id: 'Afault5xx' },
})
const HTML_502 = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>'

let emu
before(async () => {
  emu = await Emulator.start({ conversations: 50 })
})
after(async () => {
  await emu.stop()
})
beforeEach(() => emu.reset())

const fast = (options = {}) => emu.client({ retryBaseDelayMs: 5, ...options })
const log = () => emu.requestLog()
const seen = (method, edge) => log().filter((r) => r.method === method && r.path.endsWith(edge)).length
const buc = (callCount, regainMinutes) =>
  JSON.stringify({
    [emu.pageId]: [
      { type: 'messenger', call_count: callCount, total_cputime: 1, total_time: 1, estimated_time_to_regain_access: regainMinutes },
    ],
  })
const throttled = (method, count, code, regainMinutes) => ({
  match: { method },
  count,
  action: {
    type: 'graph_error',
    status: 400,
    headers: { 'X-Business-Use-Case-Usage': buc(100, regainMinutes) },
    error: { message: `(#${code}) Calls to this api have exceeded the rate limit.`, code, type: 'OAuthException' },
  },
})
async function failure(promise) {
  try {
    await promise
  } catch (e) {
    return e
  }
  assert.fail('expected a rejection')
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ------------------------------------------------------------- 5xx bursts

for (const n of [1, 2, 3]) {
  test(`GET recovers after ${n} 5xx: ${n + 1} requests`, async () => {
    emu.injectFault({ match: { method: 'GET' }, count: n, action: { type: 'status', status: 503, body: UNAVAILABLE } })
    const owner = await fast().threadOwner(PSID)
    assert.equal(owner.appId, emu.primary.appId)
    assert.deepEqual(log().map((r) => r.status), [...Array(n).fill(503), 200])
  })
}

test('GET gives up after maxRetries with a ServerError', async () => {
  emu.injectFault({ match: { method: 'GET' }, count: 10, action: { type: 'status', status: 503, body: UNAVAILABLE } })
  const e = await failure(fast().threadOwner(PSID))
  assert.ok(e instanceof ServerError, inspect(e))
  assert.equal(e.kind, 'server')
  assert.deepEqual([e.code, e.httpStatus, e.isTransient, e.fbtraceId], [2, 503, true, 'Afault5xx'])
  assert.equal(seen('GET', '/thread_owner'), 4)
})

// A POST that may have run is never sent twice: every fault, on all five
// thread-control POSTs, is in the shared scenarios (faults.test.mjs).

// ------------------------------------------------ resets, delays, bodies

for (const kind of ['reset', 'reset_mid_body']) {
  test(`GET retried through ${kind}; gives up after 4 attempts`, async () => {
    emu.injectFault({ match: { method: 'GET' }, count: 2, action: { type: kind } })
    assert.ok(await fast().threadOwner(PSID))
    assert.equal(log().length, 3)
    emu.clearRequestLog()
    emu.injectFault({ match: { method: 'GET' }, count: 10, action: { type: kind } })
    const e = await failure(fast().threadOwner(PSID))
    assert.ok(e instanceof TransportError && !(e instanceof TimeoutError), inspect(e))
    assert.equal(e.kind, 'transport')
    assert.equal(log().length, 4)
  })
}

test('a delay past the timeout is a TimeoutError; a GET retries past one', async () => {
  emu.injectFault({ match: { method: 'GET' }, action: { type: 'delay', ms: 20_000 } })
  const t0 = performance.now()
  const e = await failure(fast({ timeoutMs: 250, maxRetries: 0 }).threadOwner(PSID))
  assert.ok(performance.now() - t0 < 10_000, 'not the 20 s delay')
  assert.ok(e instanceof TimeoutError && e instanceof TransportError, inspect(e))
  assert.equal(e.code, 'ETIMEDOUT')
  emu.injectFault({ match: { method: 'GET' }, action: { type: 'delay', ms: 1500 } })
  assert.ok(await fast({ timeoutMs: 250 }).threadOwner(PSID))
})

for (const [status, body, contentType] of [
  [200, '{"data": [{"thread_owner": {"app_id": "11', undefined],
  [200, '', undefined],
  [400, HTML_502, 'text/html'],
  [502, HTML_502, 'text/html'],
  [504, '<html>Gateway Timeout</html>', 'text/html'],
]) {
  // Every HTTP 5xx is `server`, whatever its body (DESIGN's error table).
  const [Cls, kind] = status >= 500 ? [ServerError, 'server'] : [ProtocolError, 'protocol']
  test(`a malformed ${status} body is a ${Cls.name} with httpStatus`, async () => {
    emu.injectFault({ count: 10, action: { type: 'malformed', status, body, ...(contentType ? { contentType } : {}) } })
    const e = await failure(fast({ maxRetries: 0 }).threadOwner(PSID))
    assert.ok(e instanceof Cls, inspect(e))
    assert.equal(e.kind, kind)
    assert.equal(e.httpStatus, status)
    assert.ok(!e.message.includes('<html'))
  })
}

// ------------------------------------------------------------ rate limits

for (const code of [613, 80006]) {
  test(`${code}: a short regain is waited out`, async () => {
    emu.injectFault(throttled('GET', 2, code, 0.005))
    const t0 = performance.now()
    assert.ok(await fast().threadOwner(PSID))
    const took = performance.now() - t0
    assert.ok(took >= 550 && took < 5000, `${took}`)
    assert.deepEqual(log().map((r) => r.errorCode), [code, code, null])
  })

  test(`${code}: a long regain raises RateLimitError at once, then nothing is sent`, async () => {
    emu.injectFault(throttled('GET', 5, code, 5))
    const client = fast()
    const t0 = performance.now()
    const e = await failure(client.threadOwner(PSID))
    assert.ok(performance.now() - t0 < 10_000, 'not the 300 s regain')
    assert.ok(e instanceof RateLimitError, inspect(e))
    assert.deepEqual([e.kind, e.code, e.retryAfter], ['rate_limit', code, 300])
    assert.ok(e.usage)
    assert.equal(log().length, 1)
    const again = await failure(client.takeThreadControl(PSID))
    assert.ok(again instanceof RateLimitError && again.retryAfter > 290 && again.retryAfter <= 300, inspect(again))
    assert.equal(log().length, 1)
  })
}

test('a throttled POST did not run: resent, and it runs once', async () => {
  emu.injectFault(throttled('POST', 2, 80006, 0.002))
  await fast().passThreadControlToPageInbox(PSID, { metadata: 'busy' })
  assert.equal(seen('POST', '/pass_thread_control'), 3)
  assert.equal(log().filter((r) => r.status === 200).length, 1)
  assert.equal(emu.state().threads[PSID].owner_role, 'page_inbox')
})

test('Retry-After is honoured; longer than maxRetryWaitMs fails at once', async () => {
  emu.injectFault({
    match: { method: 'GET' },
    action: { type: 'graph_error', status: 400, headers: { 'Retry-After': '1' }, error: { message: '(#4) limit', code: 4 } },
  })
  const t0 = performance.now()
  assert.ok(await fast().threadOwner(PSID))
  const took = performance.now() - t0
  assert.ok(took >= 950 && took < 4000, `${took}`)
  emu.clearRequestLog()
  emu.injectFault({
    action: { type: 'graph_error', status: 400, headers: { 'Retry-After': '30' }, error: { message: '(#17) limit', code: 17 } },
  })
  const e = await failure(fast({ maxRetryWaitMs: 2000 }).threadOwner(PSID))
  assert.ok(e instanceof RateLimitError && e.retryAfter === 30, inspect(e))
  assert.equal(log().length, 1)
})

test('usage at 100%: waits for a short regain, refuses without one', async () => {
  const ok = JSON.stringify({ data: [{ thread_owner: { app_id: emu.primary.appId } }] })
  const client = fast()
  emu.injectFault({ action: { type: 'status', status: 200, body: ok, headers: { 'X-Business-Use-Case-Usage': buc(100, 0.4 / 60) } } })
  await client.threadOwner(PSID)
  const t0 = performance.now()
  await client.takeThreadControl(PSID)
  assert.ok(performance.now() - t0 >= 300)
  const impatient = fast({ maxRetryWaitMs: 5000 })
  emu.injectFault({ action: { type: 'status', status: 200, body: ok, headers: { 'X-Business-Use-Case-Usage': buc(100, 0) } } })
  await impatient.threadOwner(PSID)
  emu.clearRequestLog()
  const e = await failure(impatient.passThreadControlToPageInbox(PSID))
  assert.ok(e instanceof RateLimitError && e.retryAfter > 5, inspect(e))
  assert.deepEqual(log(), [])
})

// --------------------------------------------------------------- secrets

test('no string the package produces carries the token or the app secret', async () => {
  const token = emu.primary.token
  const secret = emu.primary.secret
  const client = fast({ appSecret: secret, timeoutMs: 300, maxRetryWaitMs: 2000 })
  const values = [client, emu, emu.primary]
  const graph = (code, message) => ({ action: { type: 'graph_error', error: { message, code, fbtrace_id: 'Ax' } } })
  const provoke = async (fault, fn) => {
    if (fault) emu.injectFault(fault)
    let err
    try {
      await fn()
    } catch (e) {
      err = e
    }
    assert.ok(err, `expected a failure after ${JSON.stringify(fault)}`)
    values.push(err)
    return err
  }
  await client.threadOwner(PSID)
  await provoke(graph(100, `(#100) bad access_token=${token}`), () => client.threadOwner(PSID))
  await provoke(null, () => client.conversations({ fields: ['no_such_field'] }).nextPage())
  await provoke(graph(190, `Error validating access token ${token}`), () => client.threadOwner(PSID))
  await provoke(null, () => new Client({ accessToken: `${token}X`, baseUrl: emu.url }).threadOwner(PSID))
  await provoke(graph(10, `(#10) no permission ${token}`), () => client.threadOwner(PSID))
  await client.passThreadControl(PSID, emu.secondary.appId)
  await provoke(null, () => client.passThreadControl(PSID, emu.secondary.appId))
  await client.takeThreadControl(PSID)
  await provoke(graph(368, `(#368) abusive ${token}`), () => client.takeThreadControl(PSID))
  await provoke(
    { count: 4, action: { type: 'status', status: 500, body: JSON.stringify({ error: { message: `x ${token}`, code: 1 } }) } },
    () => client.threadOwner(PSID),
  )
  await provoke({ count: 4, action: { type: 'reset' } }, () => client.threadOwner(PSID))
  await provoke({ action: { type: 'reset_mid_body' } }, () => client.takeThreadControl(PSID))
  await provoke({ action: { type: 'delay', ms: 800 } }, () => client.takeThreadControl(PSID))
  await provoke(null, () =>
    // Port 0: refused, and no fixed port something else might listen on.
    new Client({ accessToken: token, appSecret: secret, baseUrl: 'http://127.0.0.1:0', maxRetries: 0 }).threadOwner(PSID),
  )
  await provoke(
    { count: 4, action: { type: 'malformed', status: 502, contentType: 'text/html', body: `<html>Bearer ${token}</html>` } },
    () => client.threadOwner(PSID),
  )
  await provoke({ action: { type: 'malformed', status: 200, body: `{"data": ["${token}` } }, () => client.threadOwner(PSID))
  await provoke(null, () => client.threadOwner(`${token}/x`))
  await provoke(null, () => client.passThreadControl(PSID, token))
  await provoke(null, () => client.takeThreadControl(PSID, { metadata: token.repeat(10) }))
  await provoke(null, () => new Client({ accessToken: token, baseUrl: `http://${secret}.example.com/${token}` }))
  await provoke(null, () => new Client({ accessToken: `${token}\n` }))
  await provoke(null, () => new Client({ accessToken: token, pageId: `${secret}/x` }))
  const rl = {
    action: {
      type: 'graph_error',
      status: 400,
      headers: { 'X-Business-Use-Case-Usage': buc(100, 10) },
      error: { message: `(#80006) too many calls ${token}`, code: 80006 },
    },
  }
  await provoke(rl, () => client.threadOwner(PSID))
  await provoke(null, () => client.takeThreadControl(PSID))

  const kinds = new Set(values.filter((v) => v instanceof HandoverError).map((e) => e.kind))
  for (const k of ['invalid_parameter', 'auth', 'permission', 'thread_control', 'rate_limit', 'blocked', 'server', 'transport', 'protocol']) {
    assert.ok(kinds.has(k), `${k} provoked: ${[...kinds]}`)
  }
  assert.ok(values.some((v) => v instanceof TypeError || v instanceof RangeError))

  const pager = fast().conversations({ pageSize: 3 })
  values.push(pager, await pager.nextPage(), pager, client.lastUsage)
  const texts = []
  for (const v of values) {
    texts.push(inspect(v, { depth: 10, showHidden: true }), String(v))
    if (v instanceof Error) texts.push(v.message, String(v.stack), inspect(v.cause, { depth: 5 }))
    try {
      texts.push(JSON.stringify(v) ?? '')
    } catch {
      // circular: inspect covered it
    }
    if (v instanceof Error) texts.push(JSON.stringify(Object.fromEntries(Object.entries(v))))
  }
  for (const entry of log()) {
    assert.ok(!entry.tokenInQuery && !('access_token' in entry.query), JSON.stringify(entry))
    texts.push(JSON.stringify(entry))
  }
  for (const t of texts) {
    assert.ok(!t.includes(token), `token leaked into: ${t.slice(0, 300)}`)
    assert.ok(!t.includes(secret), `app secret leaked into: ${t.slice(0, 300)}`)
  }
})

function runChild(code, env = {}, timeoutMs = 20_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], { env: { ...process.env, ...env } })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}

test('debug output of a child process (RUST_LOG=trace, NODE_DEBUG) carries no secret', async () => {
  const { code, out, err } = await runChild(
    `
    const { Emulator } = require(${JSON.stringify(TESTING)});
    (async () => {
      const emu = await Emulator.start({ conversations: 5 });
      const c = emu.client({ appSecret: emu.primary.secret, retryBaseDelayMs: 1, timeoutMs: 300 });
      await c.threadOwner('1');
      for (const action of [{ type: 'reset' }, { type: 'status', status: 503 }, { type: 'delay', ms: 600 }]) {
        emu.injectFault({ count: 4, action });
        try { await c.threadOwner('1'); } catch (e) { console.error(e); }
      }
      console.log(emu.primary.token, emu.primary.secret);
      await emu.stop();
    })();
  `,
    { RUST_LOG: 'trace', NODE_DEBUG: 'net,http,stream,messenger-handover' },
  )
  assert.equal(code, 0, err)
  // The scan means something only if the package's own lines were there.
  assert.match(err, /MESSENGER-HANDOVER \d+: GET \/.* -> 503 \(server\)/)
  assert.match(err, /MESSENGER-HANDOVER \d+: retrying GET /)
  const [token, secret] = out.trim().split(/\s+/).slice(-2)
  assert.ok(token.startsWith('EAAG') && secret.length >= 16)
  assert.ok(!err.includes(token) && !err.includes(secret), 'no secret on stderr')
})

test('a bad TOKIO_WORKER_THREADS is an error from new Client(), not an abort; a good one runs calls', async () => {
  // tokio itself panics on a bad value when the runtime starts, which aborts Node.
  const child = (value) =>
    runChild(
      `
      const { Emulator } = require(${JSON.stringify(TESTING)});
      (async () => {
        const emu = await Emulator.start({ conversations: 1 });
        try {
          const owner = await emu.client().threadOwner('1');
          console.log('owner', owner !== null);
        } catch (e) {
          console.log(e.name, e.argument, e.message);
        }
        await emu.stop();
      })();
    `,
      { TOKIO_WORKER_THREADS: value },
    )
  for (const value of ['', 'two', '0', '-1']) {
    const { code, out, err } = await child(value)
    assert.equal(code, 0, err)
    assert.match(out, /^TypeError TOKIO_WORKER_THREADS .*positive integer/, out + err)
  }
  const { code, out, err } = await child('1')
  assert.equal(code, 0, err)
  assert.equal(out.trim(), 'owner true')
})

test('plain http:// to a non-loopback host is refused before any connection', async () => {
  let connections = 0
  const server = createServer((s) => {
    connections++
    s.destroy()
  })
  await new Promise((r) => server.listen(0, '0.0.0.0', r))
  const { port } = server.address()
  const ownIp = await new Promise((resolve) => {
    const s = createSocket('udp4')
    s.connect(9, '10.254.254.254', (e) => {
      const ip = e ? null : s.address().address
      s.close()
      resolve(ip)
    })
  })
  const urls = ['http://graph.facebook.com', 'http://10.0.0.1', 'http://169.254.169.254', 'http://0.0.0.0:80', 'http://localhost.example.com']
  if (ownIp && !ownIp.startsWith('127.')) urls.push(`http://${ownIp}:${port}`)
  for (const baseUrl of urls) {
    assert.throws(() => new Client({ accessToken: 'EAAGplain-http-token-0123', baseUrl }), (e) => {
      assert.ok(e instanceof TypeError || e instanceof RangeError || e instanceof HandoverError, inspect(e))
      assert.match(e.message, /base_?[uU]rl/)
      return true
    })
  }
  await sleep(200)
  server.close()
  assert.equal(connections, 0)
})

// ------------------------------------------------ abort, exit by itself

test('abort mid-backoff of a throttled POST: rejects at once, no orphan retry', async () => {
  emu.injectFault({
    match: { method: 'POST' },
    count: 5,
    action: { type: 'graph_error', status: 400, headers: { 'Retry-After': '2' }, error: { message: '(#613) limit', code: 613 } },
  })
  const client = fast()
  const ac = new AbortController()
  const sent = performance.now()
  const pending = client.passThreadControlToPageInbox(PSID, { signal: ac.signal })
  await sleep(300)
  assert.equal(seen('POST', '/pass_thread_control'), 1)
  const t0 = performance.now()
  ac.abort()
  const e = await failure(pending)
  assert.equal(e.name, 'AbortError')
  assert.ok(performance.now() - t0 < 2000, 'not the rest of the 2 s wait')
  // Watch past the moment the retry would have gone out (2 s after the first).
  await sleep(Math.max(0, sent + 3000 - performance.now()))
  assert.equal(seen('POST', '/pass_thread_control'), 1, 'no request after the abort')
  emu.clearFaults()
  assert.ok(await client.threadOwner(PSID))
})

// A call waiting in backoff keeps the process alive until it settles, as
// any pending timer or socket does in Node; a 20 s backoff with nothing
// awaiting it was seen to hold the process past 20 s. What is proven here:
// the call is in backoff when the script ends, nothing aborts or awaits it,
// and once it settles the open client, pager and emulator do not keep the
// process alive.
test('the process exits by itself once a call left in backoff settles; the client, a pager and the emulator stay open', async () => {
  const t0 = performance.now()
  const { code, signal, out, err } = await runChild(`
    const { Emulator } = require(${JSON.stringify(TESTING)});
    (async () => {
      const emu = await Emulator.start({ conversations: 5 });
      const c = emu.client({ retryBaseDelayMs: 1500, maxRetries: 1 });
      await c.threadOwner('1');
      emu.injectFault({ count: 1000, action: { type: 'status', status: 503, headers: { 'Retry-After': '1' } } });
      c.threadOwner('2').catch((e) => console.log('settled', e.httpStatus, emu.requestLog().length));
      while (emu.requestLog().length < 2) await new Promise((r) => setTimeout(r, 5));
      console.log('in backoff');
      // The client, the emulator and a pager stay open; nothing awaits them.
      c.conversations({ pageSize: 2 });
    })();
  `)
  assert.equal(signal, null, `killed: ${err}`)
  assert.equal(code, 0, err)
  assert.match(out, /in backoff\nsettled 503 3\n/, 'the first attempt, the backoff, the retry, then the exit')
  assert.ok(performance.now() - t0 < 15_000)
})

test('close() also stops pagers made before it', async () => {
  const bot = emu.client()
  const pager = bot.conversations({ pageSize: 10 })
  emu.clearRequestLog()
  bot.close()
  await assert.rejects(pager.nextPage(), { code: 'ERR_INVALID_STATE' })
  assert.equal(emu.requestLog().length, 0, 'nothing sent after close()')
})

test('the emulator limiter under 60 concurrent calls: exactly the budget succeeds, nothing retried', async () => {
  emu.setRateLimit({ enabled: true, maxCalls: 20, windowSecs: 60, code: 80006, regainMinutes: 2 })
  const client = fast({ maxRetryWaitMs: 10_000 })
  const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => client.threadOwner(String(5_000_000 + i))))
  const limited = results.filter((r) => r.status === 'rejected').map((r) => r.reason)
  assert.equal(results.length - limited.length, 20, 'exactly the budget succeeds')
  for (const e of limited) {
    assert.ok(e instanceof RateLimitError, inspect(e))
    assert.ok(e.retryAfter > 10 && e.retryAfter <= 120, `retryAfter ${e.retryAfter}`)
  }
  const sent = log().length
  assert.ok(sent >= 20 && sent <= 60, `${sent}: each call sent at most once`)
  await assert.rejects(client.threadOwner(PSID), RateLimitError)
  assert.equal(log().length, sent, 'refused client-side')
})
