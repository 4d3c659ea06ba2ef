// Errors cross the native boundary as data (issue 16): every failure of the
// addon is a JS Error whose own property `nativeError` is the typed
// `NativeError` of native.d.ts, with a plain-text message; nothing is parsed
// out of a message. Checked on the raw addon and through the public API.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as pkg from './helpers.mjs'

const native = createRequire(import.meta.url)('../../bindings-node/native.js')
const { Client, Emulator, AuthError, TransportError, WebhookError, parseEvents, freshPsid } = pkg

let emu
let deadUrl
before(async () => {
  emu = await Emulator.start({ conversations: 3 })
  // A port nothing listens on any more: a real connection refusal.
  const gone = await Emulator.start()
  deadUrl = gone.url
  await gone.stop()
})
after(async () => {
  await emu.stop()
})

/** No message may carry data for a program: no control prefix, no JSON, no old tag. */
function assertPlainMessage(err) {
  assert.equal(typeof err.message, 'string')
  assert.ok(err.message.length > 0)
  assert.ok(!/[\u0000-\u001f]/.test(err.message), `control character in ${JSON.stringify(err.message)}`)
  assert.ok(!err.message.includes('mh-error'), err.message)
  assert.ok(!err.message.trimStart().startsWith('{'), err.message)
}

/** The error a native call throws or rejects with, checked for its typed payload. */
async function nativeFailure(fn, tag) {
  let err
  try {
    await fn()
  } catch (e) {
    err = e
  }
  assert.ok(err instanceof Error, `expected a rejection with an Error, got ${err}`)
  assertPlainMessage(err)
  const p = err.nativeError
  assert.equal(typeof p, 'object', 'the typed payload is an own property')
  assert.ok(Object.hasOwn(err, 'nativeError'))
  assert.equal(p.tag, tag)
  assert.equal(p.message, err.message)
  assert.equal(typeof p.fields, 'object')
  return p
}

const nativeClient = (opts = {}) =>
  new native.NativeClient({ accessToken: emu.primary.token, baseUrl: emu.url, pageId: emu.pageId, ...opts })

test('the raw addon: a bad argument is typed data, thrown synchronously', async () => {
  const p = await nativeFailure(() => nativeClient({ maxRetries: 1000 }), 'invalid_input')
  assert.equal(p.argument, 'max_retries')
  assert.equal(p.problem, 'range')
  const q = await nativeFailure(() => nativeClient().conversations({ folder: 'nope' }), 'invalid_input')
  assert.equal(q.argument, 'folder')
})

test('the raw addon: a Graph error carries the class and the fields of the core table', async () => {
  const c = nativeClient({ accessToken: 'EAAG-not-a-real-token-123' })
  const p = await nativeFailure(() => c.threadOwner(freshPsid()), 'core')
  assert.equal(p.class, 'AuthError')
  assert.equal(p.fields.kind, 'auth')
  assert.equal(typeof p.fields.code, 'number')
  assert.equal(typeof p.fields.httpStatus, 'number')
  assert.ok(!JSON.stringify(p).includes('EAAG-not-a-real-token-123'))
})

test('the raw addon: transport, closed client, abort, webhook, test server', async () => {
  const t = await nativeFailure(
    () => nativeClient({ baseUrl: deadUrl, maxRetries: 0 }).threadOwner(freshPsid()),
    'core',
  )
  assert.equal(t.class, 'TransportError')
  assert.equal(t.fields.code, 'ECONNREFUSED')

  const closed = nativeClient()
  closed.close()
  await nativeFailure(() => closed.threadOwner(freshPsid()), 'state')

  const token = new native.CancelToken()
  token.cancel()
  await nativeFailure(() => nativeClient().threadOwner(freshPsid(), token), 'aborted')

  const secret = await nativeFailure(() => native.verifySignature('', 'body', null), 'invalid_input')
  assert.equal(secret.argument, 'app_secret')

  const w = await nativeFailure(() => native.parseEvents('not json'), 'core')
  assert.equal(w.class, 'WebhookError')
  assert.equal(w.fields.reason, 'malformed')

  const raw = await native.startEmulator(null)
  try {
    const a = await nativeFailure(() => raw.app('nobody'), 'invalid_input')
    assert.equal(a.argument, 'app')
  } finally {
    await raw.stop()
  }
  await nativeFailure(() => raw.info(), 'state')
})

test('the public API: every class from the typed payload, messages plain', async () => {
  const auth = await new Client({ accessToken: 'EAAG-nope-1', baseUrl: emu.url, pageId: emu.pageId })
    .threadOwner(freshPsid())
    .catch((e) => e)
  assert.ok(auth instanceof AuthError)
  assert.equal(auth.kind, 'auth')
  assert.equal(auth.nativeError, undefined, 'the payload does not leak onto the public class')
  assertPlainMessage(auth)

  const tr = await new Client({ accessToken: 'EAAG-nope-2', baseUrl: deadUrl, maxRetries: 0 })
    .threadOwner(freshPsid())
    .catch((e) => e)
  assert.ok(tr instanceof TransportError)
  assertPlainMessage(tr)

  assert.throws(() => new Client({ accessToken: 'x', maxRetries: 1000 }), (e) => {
    assertPlainMessage(e)
    return e instanceof RangeError && e.argument === 'maxRetries'
  })
  assert.throws(() => parseEvents('not json'), (e) => {
    assertPlainMessage(e)
    return e instanceof WebhookError && e.reason === 'malformed'
  })
})

test('an aborted call rejects once, and the native rejection is not left unhandled', async () => {
  const unhandled = []
  const onUnhandled = (e) => unhandled.push(e)
  process.on('unhandledRejection', onUnhandled)
  try {
    emu.injectFault({ match: { pathContains: 'thread_owner' }, count: 1, action: { type: 'delay', ms: 30_000 } })
    const c = new Client({ accessToken: emu.primary.token, baseUrl: emu.url, pageId: emu.pageId })
    const ac = new AbortController()
    let settled = 0
    const p = c.threadOwner(freshPsid(), { signal: ac.signal }).then(
      () => settled++,
      (e) => {
        settled++
        return e
      },
    )
    setTimeout(() => ac.abort(), 50)
    const err = await p
    assert.equal(err.name, 'AbortError')
    // Let the native promise's own rejection (tag `aborted`) settle too.
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(settled, 1)
    assert.deepEqual(unhandled, [])
    c.close()
  } finally {
    emu.clearFaults()
    process.off('unhandledRejection', onUnhandled)
  }
})
