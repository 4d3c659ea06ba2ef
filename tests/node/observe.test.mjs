// What a Node user sees of the core's HTTP attempts: the diagnostics_channel
// TracingChannel `messenger-handover:request`, NODE_DEBUG=messenger-handover,
// and the package's `bin` (the same Rust command as the binary), against the
// emulator.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import diagnostics from 'node:diagnostics_channel'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { Emulator } from './helpers.mjs'

const require = createRequire(import.meta.url)
const TESTING = fileURLToPath(new URL('../../bindings-node/testing.js', import.meta.url))
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
  const channel = diagnostics.tracingChannel('messenger-handover:request')
  const messages = []
  const handlers = {
    start: (ctx) => messages.push({ name: 'start', ctx, snapshot: { ...ctx } }),
    end: (ctx) => messages.push({ name: 'end', ctx, snapshot: { ...ctx } }),
    error: (ctx) => messages.push({ name: 'error', ctx, snapshot: { ...ctx } }),
    asyncStart: () => {},
    asyncEnd: () => {},
  }
  channel.subscribe(handlers)
  try {
    await retried(emu)
    await until(messages, 3)
  } finally {
    channel.unsubscribe(handlers)
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
