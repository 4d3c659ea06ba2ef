// AbortSignal: an aborted call rejects with a DOMException named AbortError
// well before the server answers, the Rust future is dropped, and nothing
// keeps the process alive afterwards.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Emulator, freshPsid } from './helpers.mjs'

const INDEX = fileURLToPath(new URL('../../bindings-node/index.js', import.meta.url))
const TESTING = fileURLToPath(new URL('../../bindings-node/testing.js', import.meta.url))

let emu
before(async () => {
  emu = await Emulator.start({ conversations: 30 })
})
after(async () => {
  await emu.stop()
})

function isAbort(e) {
  assert.ok(e instanceof DOMException, `not a DOMException: ${e}`)
  assert.equal(e.name, 'AbortError')
  return true
}

test('abort returns in well under 2 s against a 30 s delay', async () => {
  emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'delay', ms: 30_000 } })
  const ac = new AbortController()
  const t0 = performance.now()
  setTimeout(() => ac.abort(), 100)
  await assert.rejects(emu.client().threadOwner(freshPsid(), { signal: ac.signal }), isAbort)
  const took = performance.now() - t0
  assert.ok(took < 10_000, `took ${took} ms, not the 30 s delay`)
})

test('AbortSignal.timeout aborts too, and the reason is the cause', async () => {
  emu.injectFault({ match: { pathContains: 'take_thread_control' }, count: 1, action: { type: 'delay', ms: 30_000 } })
  const t0 = performance.now()
  await assert.rejects(emu.client().takeThreadControl(freshPsid(), { signal: AbortSignal.timeout(150) }), (e) => {
    isAbort(e)
    assert.equal(e.cause?.name, 'TimeoutError')
    return true
  })
  assert.ok(performance.now() - t0 < 10_000, 'not the 30 s delay')
})

test('an already aborted signal rejects before anything is sent', async () => {
  emu.clearRequestLog()
  const ac = new AbortController()
  ac.abort()
  await assert.rejects(emu.client().passThreadControlToPageInbox(freshPsid(), { signal: ac.signal }), isAbort)
  assert.equal(emu.requestLog().length, 0)
})

test('abort during retry backoff', async () => {
  // Retry-After fixes the wait at 20 s: a jittered backoff alone is a random
  // wait in [0, base], which undercut the abort 1.5% of the time.
  emu.injectFault({
    match: { pathContains: 'thread_owner' },
    count: 1,
    action: { type: 'status', status: 503, body: '', headers: { 'retry-after': '20' } },
  })
  const c = emu.client('primary', { maxRetries: 3, retryBaseDelayMs: 20_000 })
  const t0 = performance.now()
  await assert.rejects(c.threadOwner(freshPsid(), { signal: AbortSignal.timeout(300) }), isAbort)
  assert.ok(performance.now() - t0 < 10_000, 'not the 20 s backoff')
})

test('a signal that never fires costs nothing and the call succeeds', async () => {
  const ac = new AbortController()
  const owner = await emu.client().threadOwner(freshPsid(), { signal: ac.signal })
  assert.ok(owner)
})

test('aborting a page read; the pager is usable afterwards', async () => {
  const bot = emu.client()
  const pager = bot.conversations({ pageSize: 5 })
  emu.injectFault({ match: { pathContains: 'conversations' }, count: 1, action: { type: 'delay', ms: 30_000 } })
  await assert.rejects(pager.nextPage({ signal: AbortSignal.timeout(100) }), isAbort)
  const page = await pager.nextPage()
  assert.equal(page.items.length, 5)
  pager.close()
})

function runChild(source) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the child did not exit by itself: ${out}`))
    }, 15_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

test('the process exits by itself after an abort, with the emulator and a client left open', async () => {
  const t0 = performance.now()
  const { code, out } = await runChild(`
    const { Emulator } = require(${JSON.stringify(TESTING)});
    (async () => {
      const emu = await Emulator.start({ conversations: 5 });
      emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'delay', ms: 30000 } });
      const c = emu.client();
      await c.secondaryReceivers();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      try { await c.threadOwner('2', { signal: ac.signal }); } catch (e) { console.log(e.name); }
    })();
  `)
  assert.equal(code, 0, out)
  assert.match(out, /AbortError/)
  assert.ok(performance.now() - t0 < 10_000, 'exited well before the 30 s delay')
})

test('the process exits by itself with a client open and no emulator', async () => {
  const { code } = await runChild(`
    const { Client } = require(${JSON.stringify(INDEX)});
    const c = new Client({ accessToken: 'EAAG-x', baseUrl: 'http://127.0.0.1:0', maxRetries: 0 });
    c.threadOwner('1').catch((e) => console.log(e.name));
  `)
  assert.equal(code, 0)
})

test('an abort that comes after the read finished does not drop its page: it resolves, and after moves past it', async () => {
  const pages = await Emulator.start({ conversations: 30 })
  try {
    const bot = pages.client()
    const all = []
    for await (const c of bot.conversations({ pageSize: 10 })) all.push(c.id)
    pages.injectFault({ match: { method: 'GET', pathContains: 'conversations' }, count: 10, action: { type: 'delay', ms: 200 } })
    const pager = bot.conversations({ pageSize: 10 })
    const ac = new AbortController()
    const read = pager.nextPage({ signal: ac.signal })
    // The event loop is busy while the answer lands: the page is handed out natively first.
    const until = Date.now() + 900
    while (Date.now() < until) {}
    ac.abort()
    const page = await read
    assert.deepEqual(page.items.map((c) => c.id), all.slice(0, 10))
    pages.clearFaults()
    const rest = []
    for await (const c of bot.conversations({ pageSize: 10, after: pager.after })) rest.push(c.id)
    assert.deepEqual(rest, all.slice(10))
  } finally {
    await pages.stop()
  }
})
