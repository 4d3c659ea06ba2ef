// Bad arguments: TypeError/RangeError naming the argument, and nothing is
// sent (the emulator's request log stays empty).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Client, Emulator, batchOp, signWebhookBody, verifySignature, verifySubscription, assertHidden } from './helpers.mjs'

let emu
let bot
before(async () => {
  emu = await Emulator.start({ conversations: 5, mode: 'routing' })
  bot = emu.client()
})
after(async () => {
  await emu.stop()
})

const BAD_IDS = ['', '1/2', '1?x=2', '1#2', '1&2', '1 2', '1\n2', '1\u00002', '%2F']

async function refused(promise, name, argument) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`)
    assert.equal(e.argument, argument)
    assert.ok(e.message.includes(`"${argument}"`), e.message)
    return true
  })
}

test('ids with / ? # & whitespace, control characters or empty are refused', async () => {
  emu.clearRequestLog()
  for (const psid of BAD_IDS) {
    await refused(bot.threadOwner(psid), 'TypeError', 'psid')
    await refused(bot.passThreadControlToPageInbox(psid), 'TypeError', 'psid')
    await refused(bot.takeThreadControl(psid), 'TypeError', 'psid')
    await refused(bot.requestThreadControl(psid), 'TypeError', 'psid')
    await refused(bot.releaseThreadControl(psid), 'TypeError', 'psid')
    await refused(bot.extendThreadControl(psid, 60), 'TypeError', 'psid')
  }
  for (const app of ['', '12a', '1/2', ' 123', '-5']) {
    await refused(bot.passThreadControl('123', app), 'TypeError', 'targetAppId')
  }
  assert.equal(emu.requestLog().length, 0)
})

test('wrong types are TypeErrors', async () => {
  emu.clearRequestLog()
  for (const v of [undefined, null, 123, {}, ['1'], 1n]) {
    await refused(bot.threadOwner(v), 'TypeError', 'psid')
  }
  await refused(bot.passThreadControl('1', 263902037430900), 'TypeError', 'targetAppId')
  await refused(bot.takeThreadControl('1', { metadata: 42 }), 'TypeError', 'metadata')
  await refused(bot.takeThreadControl('1', { signal: 'abort' }), 'TypeError', 'signal')
  await refused(bot.takeThreadControl('1', 'metadata'), 'TypeError', 'options')
  await refused(bot.takeThreadControl('1', { metdata: 'typo' }), 'TypeError', 'options')
  await refused(bot.extendThreadControl('1', '60'), 'TypeError', 'durationSeconds')
  assert.equal(emu.requestLog().length, 0)
})

test('values napi cannot carry are TypeErrors naming the argument, nothing sent', async () => {
  // A hole in an array, a Symbol, a Buffer or NaN in a batch operation: napi refused them with a plain Error.
  emu.clearRequestLog()
  const calls = [
    () => bot.threadOwners(['1', , '2']),
    () => bot.conversations({ fields: ['id', , 'snippet'] }),
    () => bot.batch([{ op: 'thread_owner', psid: Symbol('x') }]),
    () => bot.batch([{ op: 'thread_owner', psid: Buffer.from('1') }]),
    () => bot.batch([{ op: 'extend_thread_control', psid: '1', duration: NaN }]),
    () => bot.batch([{ op: 'thread_owner', psid: '1' }, , { op: 'thread_owner', psid: '2' }]),
  ]
  for (const call of calls) {
    await assert.rejects(async () => call(), (e) => e instanceof TypeError && typeof e.argument === 'string', String(call))
  }
  // An unknown option is named only when it looks like a name: a token passed as a key is not shown.
  const token = `EAAG${'x'.repeat(120)}`
  await assert.rejects(bot.threadOwner('1', { [token]: 1 }), (e) => e instanceof TypeError && !e.message.includes(token))
  assert.equal(emu.requestLog().length, 0)
})

test('out-of-range values are RangeErrors', async () => {
  emu.clearRequestLog()
  for (const d of [0, -1, 1.5, 604_801, 1e20, Infinity, NaN]) {
    await assert.rejects(bot.extendThreadControl('1', d), (e) => {
      assert.ok(e instanceof RangeError || (Number.isNaN(d) && e instanceof TypeError), `${d}: ${e}`)
      assert.equal(e.argument, 'durationSeconds')
      return true
    })
  }
  await refused(bot.takeThreadControl('1', { metadata: 'x'.repeat(1001) }), 'RangeError', 'metadata')
  await refused(bot.passThreadControlToPageInbox('1', { metadata: 'm'.repeat(4 * 1024 * 1024) }), 'RangeError', 'metadata')
  assert.equal(emu.requestLog().length, 0)
})

test('the constructor checks its options', () => {
  const saved = process.env.PAGE_ACCESS_TOKEN
  delete process.env.PAGE_ACCESS_TOKEN
  // No options at all: the token would come from PAGE_ACCESS_TOKEN, unset here.
  assert.throws(() => new Client(), { name: 'TypeError', argument: 'accessToken' })
  if (saved !== undefined) process.env.PAGE_ACCESS_TOKEN = saved
  assert.throws(() => new Client(null), { name: 'TypeError', argument: 'options' })
  assert.throws(() => new Client('EAAG-token'), { name: 'TypeError', argument: 'options' })
  assert.throws(() => new Client({}), { name: 'TypeError', argument: 'accessToken' })
  assert.throws(() => new Client({ accessToken: '' }), { name: 'TypeError', argument: 'accessToken' })
  assert.throws(() => new Client({ accessToken: 't', pageId: 'a/b' }), { name: 'TypeError', argument: 'pageId' })
  assert.throws(() => new Client({ accessToken: 't', apiVersion: '26' }), { name: 'TypeError', argument: 'apiVersion' })
  assert.throws(() => new Client({ accessToken: 't', baseUrl: 'http://graph.facebook.com' }), {
    name: 'TypeError',
    argument: 'baseUrl',
  })
  assert.throws(() => new Client({ accessToken: 't', baseUrl: 'http://10.0.0.1' }), { argument: 'baseUrl' })
  assert.throws(() => new Client({ accessToken: 't', timeoutMs: 0 }), { name: 'RangeError', argument: 'timeoutMs' })
  assert.throws(() => new Client({ accessToken: 't', timeoutMs: -5 }), { name: 'RangeError' })
  assert.throws(() => new Client({ accessToken: 't', maxRetries: 1.5 }), { name: 'RangeError', argument: 'maxRetries' })
  assert.throws(() => new Client({ accessToken: 't', maxRetries: '3' }), { name: 'TypeError', argument: 'maxRetries' })
  assert.throws(() => new Client({ accessToken: 't', token: 'typo' }), { name: 'TypeError' })
  for (const ok of ['http://127.0.0.1:1', 'http://localhost:1', 'http://[::1]:1', 'https://graph.facebook.com']) {
    new Client({ accessToken: 't', baseUrl: ok }).close()
  }
})

test('no error message or stack shows the token', () => {
  const token = 'EAAG-secret-in-constructor'
  for (const opts of [{ pageId: '' }, { baseUrl: 'ftp://x' }, { timeoutMs: -1 }]) {
    // assert.throws: a constructor that does not throw fails the test (a
    // try/catch would swallow its own assert.fail).
    assert.throws(
      () => new Client({ accessToken: token, ...opts }),
      (e) => !e.message.includes(token) && !String(e.stack).includes(token),
    )
  }
})

test('a lone surrogate is refused naming the argument, the value never shown', async () => {
  // napi turned it into U+FFFD: the text sent (a secret, a metadata) was not the one given.
  const bad = 'EAAGsecret\ud800'
  emu.clearRequestLog()
  const calls = [
    () => new Client({ accessToken: bad, pageId: '1' }),
    () => new Client({ accessToken: 'EAAtoken', appSecret: bad, pageId: '1' }),
    () => bot.threadOwner(bad),
    () => bot.takeThreadControl('1', { metadata: bad }),
    () => bot.threadOwners(['1', bad]),
    () => bot.batch([{ op: 'thread_owner', psid: bad }]),
    () => batchOp.passThreadControl('1', '2', { metadata: bad }),
    () => bot.conversations({ fields: ['id', bad] }),
    () => bot.exportConversations({ checkpoint: bad }),
    () => signWebhookBody(bad, '{}'),
    () => verifySignature(bad, '{}', 'sha256=00'),
    () => verifySubscription({ 'hub.mode': 'subscribe' }, bad),
  ]
  for (const call of calls) {
    await assert.rejects(async () => call(), (e) => {
      assert.equal(e.code, 'ERR_INVALID_ARG_VALUE', `${call}: ${e.message}`)
      assert.match(e.message, /lone surrogate/)
      assertHidden('EAAGsecret', e)
      return true
    }, String(call))
  }
  assert.equal(emu.requestLog().length, 0)
})
