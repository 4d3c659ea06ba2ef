// What a Node user sees of the core's HTTP attempts: the diagnostics_channel
// TracingChannel `messenger-handover:request`, NODE_DEBUG=messenger-handover,
// and the package's `bin` (the same Rust command as the binary), against the
// emulator.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import diagnostics from 'node:diagnostics_channel'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { Emulator, batchOp } from './helpers.mjs'

const require = createRequire(import.meta.url)
const TESTING = fileURLToPath(new URL('../../bindings-node/testing.js', import.meta.url))
const INDEX = fileURLToPath(new URL('../../bindings-node/index.js', import.meta.url))
const BIN = fileURLToPath(new URL('../../bindings-node/bin/messenger-handover.js', import.meta.url))
const PKG = require('../../bindings-node/package.json')
const PSID = '2468013579'
const UNAVAILABLE = JSON.stringify({
  error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2, is_transient: true, fbtrace_id: 'Aobserve5xx' },
})

function retried(emu) {
  emu.injectFault({ match: { method: 'GET' }, count: 2, action: { type: 'status', status: 503, body: UNAVAILABLE } })
  return emu.client({ appSecret: emu.primary.secret, retryBaseDelayMs: 1 }).threadOwner(PSID)
}

/** Resolves once `n` end messages arrived (they come through the event loop). */
function until(messages, n) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000
    const poll = () => {
      if (messages.filter((m) => m.name === 'end').length >= n) return resolve()
      if (Date.now() > deadline) return reject(new Error(`only ${JSON.stringify(messages)}`))
      setTimeout(poll, 5)
    }
    poll()
  })
}

function scan(emu, texts) {
  assert.ok(texts.length > 0)
  for (const t of texts) {
    for (const secret of [emu.primary.token, emu.primary.secret, 'appsecret_proof', '?', PSID]) {
      assert.ok(!t.includes(secret), `${secret} in ${t.slice(0, 300)}`)
    }
  }
}

test('the TracingChannel gets start, error and end for each attempt of a retried call', async () => {
  const emu = await Emulator.start()
  const { messages, stop } = record(diagnostics.tracingChannel('messenger-handover:request'))
  try {
    await retried(emu)
    await until(messages, 3)
  } finally {
    stop()
  }
  assert.deepEqual(
    messages.map((m) => m.name),
    ['start', 'error', 'end', 'start', 'error', 'end', 'start', 'end'],
  )
  const starts = messages.filter((m) => m.name === 'start')
  const ends = messages.filter((m) => m.name === 'end')
  ends.forEach((end, i) => {
    assert.equal(end.ctx, starts[i].ctx, 'one context from start to end')
    const a = end.snapshot
    assert.equal(a['http.request.method'], 'GET')
    assert.ok(a['url.path'].endsWith(`/${emu.pageId}/thread_owner`), a['url.path'])
    assert.equal(a['server.address'], '127.0.0.1')
    assert.equal(a['server.port'], Number(new URL(emu.url).port))
    assert.equal(a['http.request.resend_count'], i === 0 ? undefined : i)
    assert.equal(starts[i].snapshot['http.response.status_code'], undefined, 'the start has no answer yet')
  })
  for (const end of ends.slice(0, 2)) {
    assert.equal(end.snapshot['http.response.status_code'], 503)
    assert.equal(end.snapshot['error.type'], 'server')
    assert.equal(end.snapshot['graph.fbtrace_id'], 'Aobserve5xx')
    assert.equal(end.ctx.error.kind, 'server')
  }
  assert.equal(ends[2].snapshot['http.response.status_code'], 200)
  assert.equal(ends[2].snapshot['error.type'], undefined)
  assert.equal(typeof ends[2].snapshot['graph.usage.call_count'], 'number')
  scan(emu, messages.map((m) => JSON.stringify(m.snapshot) + String(m.ctx.error?.message)))

  // Unsubscribed: nothing more.
  messages.length = 0
  await retried(emu)
  await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual(messages, [])
  await emu.stop()
})

/** A subscriber that records every message of the TracingChannel. */
function record(channel) {
  const messages = []
  const handlers = {
    start: (ctx) => messages.push({ name: 'start', ctx, snapshot: { ...ctx } }),
    end: (ctx) => messages.push({ name: 'end', ctx, snapshot: { ...ctx } }),
    error: (ctx) => messages.push({ name: 'error', ctx, snapshot: { ...ctx } }),
    asyncStart: () => {},
    asyncEnd: () => {},
  }
  channel.subscribe(handlers)
  return { messages, stop: () => channel.unsubscribe(handlers) }
}

// The batch request fails as a whole once (503), then in one operation's slot.
function faultBatch(emu) {
  emu.injectFault({ match: { method: 'POST', in_batch: false }, action: { type: 'status', status: 503, body: UNAVAILABLE } })
  emu.injectFault({ match: { batch_index: 1 }, action: { type: 'status', status: 503, body: UNAVAILABLE } })
}

test('a retried batch: each attempt counts its resends on the TracingChannel', async () => {
  const emu = await Emulator.start()
  const { messages, stop } = record(diagnostics.tracingChannel('messenger-handover:request'))
  try {
    faultBatch(emu)
    const results = await emu.client({ retryBaseDelayMs: 1 }).batch(['1111', '2222', '3333'].map(batchOp.threadOwner))
    assert.ok(results.every((r) => r.ok), JSON.stringify(results))
    await until(messages, 3)
  } finally {
    stop()
  }
  const ends = messages.filter((m) => m.name === 'end').map((m) => m.snapshot)
  assert.deepEqual(
    ends.map((a) => a['http.request.resend_count']),
    [undefined, 1, 2],
  )
  for (const a of ends) {
    assert.equal(a['http.request.method'], 'POST')
    assert.equal(a['url.path'], '/')
  }
  assert.equal(ends[0]['http.response.status_code'], 503)
  assert.equal(ends[0]['error.type'], 'server')
  assert.equal(ends[1]['http.response.status_code'], 200)
  scan(emu, messages.map((m) => JSON.stringify(m.snapshot)))
  await emu.stop()
})

const BATCH_CHILD = `
  const { Emulator } = require(${JSON.stringify(TESTING)});
  const { batchOp } = require(${JSON.stringify(INDEX)});
  (async () => {
    const emu = await Emulator.start();
    emu.injectFault({ match: { method: 'POST', in_batch: false }, action: { type: 'status', status: 503 } });
    emu.injectFault({ match: { batch_index: 1 }, action: { type: 'status', status: 503 } });
    const results = await emu.client({ retryBaseDelayMs: 1 }).batch(['1111', '2222', '3333'].map(batchOp.threadOwner));
    if (!results.every((r) => r.ok)) throw new Error(JSON.stringify(results));
    console.log(emu.primary.token);
    await emu.stop();
  })();
`

test('NODE_DEBUG=messenger-handover prints the retries of a batch with their wait', async () => {
  const on = await run(['-e', BATCH_CHILD], { NODE_DEBUG: 'messenger-handover' })
  assert.equal(on.code, 0, on.err)
  const lines = on.err.split('\n').filter((l) => l.startsWith('MESSENGER-HANDOVER '))
  assert.equal(lines.length, 5, on.err)
  assert.match(lines[0], /POST \/ -> 503 \(server\) in \d+ ms/)
  assert.match(lines[1], /retrying POST \/ in \d+ ms after a server error \(3 batch operations\)$/)
  assert.match(lines[2], /POST \/ -> 200 in \d+ ms/)
  assert.match(lines[3], /retrying POST \/ in \d+ ms after a server error \(1 batch operation\)$/)
  assert.match(lines[4], /POST \/ -> 200 in \d+ ms/)
  const token = on.out.trim()
  for (const l of lines) assert.ok(!l.includes(token) && !l.includes('2222'), l)
})

// Runs in a worker_threads Worker: subscribes to the worker's own channel,
// makes a retried call, posts what the channel saw.
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const dc = require('node:diagnostics_channel');
  const { Client } = require(workerData.index);
  const channel = dc.tracingChannel('messenger-handover:request');
  const seen = [];
  const handlers = {
    start: (ctx) => seen.push({ name: 'start', ...ctx }),
    end: (ctx) => seen.push({ name: 'end', ...ctx, error: undefined }),
    error: (ctx) => seen.push({ name: 'error', kind: ctx.error.kind }),
    asyncStart: () => {},
    asyncEnd: () => {},
  };
  channel.subscribe(handlers);
  (async () => {
    const client = new Client({ accessToken: workerData.token, pageId: workerData.pageId, baseUrl: workerData.url,
      retryBaseDelayMs: 1 });
    await client.threadOwner(workerData.psid);
    const deadline = Date.now() + 10000;
    while (seen.filter((m) => m.name === 'end').length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    channel.unsubscribe(handlers);
    client.close();
    parentPort.postMessage(seen);
  })().catch((e) => parentPort.postMessage({ failed: String(e && e.stack || e) }));
`

test('a client in a worker_threads Worker publishes to the worker\'s channel, not the main thread\'s', async () => {
  const emu = await Emulator.start()
  const main = record(diagnostics.tracingChannel('messenger-handover:request'))
  let seen
  try {
    emu.injectFault({ match: { method: 'GET' }, count: 1, action: { type: 'status', status: 503, body: UNAVAILABLE } })
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { index: INDEX, token: emu.primary.token, pageId: emu.pageId, url: emu.url, psid: PSID },
    })
    seen = await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await worker.terminate()
    assert.ok(Array.isArray(seen), JSON.stringify(seen))
    assert.deepEqual(
      seen.map((m) => m.name),
      ['start', 'error', 'end', 'start', 'end'],
    )
    assert.equal(seen[1].kind, 'server')
    const ends = seen.filter((m) => m.name === 'end')
    assert.deepEqual(ends.map((m) => m['http.request.resend_count']), [undefined, 1])
    assert.deepEqual(ends.map((m) => m['http.response.status_code']), [503, 200])
    assert.ok(ends.every((m) => m['url.path'].endsWith(`/${emu.pageId}/thread_owner`)))
    // The main thread's subscriber heard nothing of the worker's call.
    await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(main.messages, [])
    // And the main thread still hears its own calls once the worker is gone.
    await emu.client().threadOwner(PSID)
    await until(main.messages, 1)
    assert.deepEqual(
      main.messages.map((m) => m.name),
      ['start', 'end'],
    )
  } finally {
    main.stop()
  }
  scan(emu, seen.map((m) => JSON.stringify(m)))
  await emu.stop()
})

function run(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env } })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}

const CHILD = `
  const { Emulator } = require(${JSON.stringify(TESTING)});
  (async () => {
    const emu = await Emulator.start();
    emu.injectFault({ match: { method: 'GET' }, count: 2, action: { type: 'status', status: 503 } });
    await emu.client({ appSecret: emu.primary.secret, retryBaseDelayMs: 1 }).threadOwner('1');
    console.log(emu.primary.token, emu.primary.secret);
    await emu.stop();
  })();
`

test('NODE_DEBUG=messenger-handover prints one line per attempt and per retry; nothing without it', async () => {
  const on = await run(['-e', CHILD], { NODE_DEBUG: 'messenger-handover' })
  assert.equal(on.code, 0, on.err)
  const lines = on.err.split('\n').filter((l) => l.startsWith('MESSENGER-HANDOVER '))
  assert.equal(lines.length, 5, on.err)
  assert.match(lines[0], /GET \/v[\d.]+\/\d+\/thread_owner -> 503 \(server\) in \d+ ms/)
  assert.match(lines[1], /retrying GET .* after a server error/)
  assert.match(lines[4], /-> 200 in \d+ ms fbtrace_id=/)
  const [token, secret] = on.out.trim().split(/\s+/)
  for (const l of lines) assert.ok(!l.includes(token) && !l.includes(secret) && !l.includes('?'), l)
  const off = await run(['-e', CHILD], { NODE_DEBUG: '' })
  assert.equal(off.code, 0, off.err)
  assert.equal(off.err, '')
})

test('the bin runs the command: --version, owner, pass, conversations --json, an error exit code', async () => {
  const version = await run([BIN, '--version'])
  assert.equal(version.code, 0)
  assert.equal(version.out.trim(), `messenger-handover ${PKG.version}`)
  const emu = await Emulator.start({ conversations: 5 })
  const cli = (args, token = emu.primary.token) =>
    run([BIN, '--base-url', emu.url, '--page-id', emu.pageId, ...args], { PAGE_ACCESS_TOKEN: token, APP_SECRET: '' })
  const owner = await cli(['owner', PSID, '--json'])
  assert.equal(owner.code, 0, owner.err)
  assert.equal(JSON.parse(owner.out).psid, PSID)
  const passed = await cli(['pass', PSID, '--to', 'inbox', '--json'])
  assert.equal(passed.code, 0, passed.err)
  assert.equal(emu.state().threads[PSID].owner_role, 'page_inbox')
  const convs = await cli(['conversations', '--json'])
  assert.equal(convs.code, 0, convs.err)
  const rows = convs.out.trim().split('\n').map((l) => JSON.parse(l))
  assert.ok(rows.length > 0 && rows.every((r) => typeof r.id === 'string'))
  const bad = await cli(['owner', PSID], 'EAAbogus' + 'x'.repeat(40))
  assert.equal(bad.code, 4, bad.err)
  assert.equal(bad.err.trim().split('\n').length, 1)
  assert.match(bad.err, /auth/)
  for (const r of [owner, passed, convs, bad]) assert.ok(!(r.out + r.err).includes(emu.primary.token))
  await emu.stop()
})
