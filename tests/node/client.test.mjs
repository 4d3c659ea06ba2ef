// Every operation of the client against the emulator, over real HTTP.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { ACCESS_TOKEN_ENV, Client, Emulator, PAGE_INBOX_APP_ID, ProtocolError, RateLimitError, freshPsid, assertHidden, version } from './helpers.mjs'

let emu
let routing
before(async () => {
  emu = await Emulator.start({ conversations: 50 })
  routing = await Emulator.start({ conversations: 10, mode: 'routing' })
})
after(async () => {
  await emu.stop()
  await routing.stop()
})

test('without accessToken, the token comes from PAGE_ACCESS_TOKEN, read at construction', async () => {
  assert.equal(ACCESS_TOKEN_ENV, 'PAGE_ACCESS_TOKEN')
  const saved = process.env.PAGE_ACCESS_TOKEN
  try {
    process.env.PAGE_ACCESS_TOKEN = emu.primary.token
    const bot = new Client({ pageId: emu.pageId, baseUrl: emu.url })
    delete process.env.PAGE_ACCESS_TOKEN
    assert.equal((await bot.threadOwner(freshPsid())).appId, emu.primary.appId)
    for (const value of [undefined, '']) {
      if (value === undefined) delete process.env.PAGE_ACCESS_TOKEN
      else process.env.PAGE_ACCESS_TOKEN = value
      assert.throws(() => new Client(), (e) => e instanceof TypeError && e.argument === 'accessToken' && /PAGE_ACCESS_TOKEN/.test(e.message))
    }
    // A token given wins over the variable.
    process.env.PAGE_ACCESS_TOKEN = 'EAAGnot-this-one'
    const given = new Client({ accessToken: emu.primary.token, pageId: emu.pageId, baseUrl: emu.url })
    assert.equal((await given.threadOwner(freshPsid())).appId, emu.primary.appId)
  } finally {
    if (saved === undefined) delete process.env.PAGE_ACCESS_TOKEN
    else process.env.PAGE_ACCESS_TOKEN = saved
  }
})

test('handover: owner, pass to the Page Inbox, take back, request, release', async () => {
  const bot = emu.client('primary')
  const inbox = emu.client('pageInbox')
  const psid = freshPsid()
  assert.deepEqual(await bot.threadOwner(psid), { appId: emu.primary.appId, expiration: null })

  assert.equal(await bot.passThreadControlToPageInbox(psid, { metadata: 'needs a human' }), undefined)
  assert.deepEqual(await bot.threadOwner(psid), { appId: PAGE_INBOX_APP_ID, expiration: null })

  await bot.takeThreadControl(psid, { metadata: 'bot again' })
  assert.equal((await bot.threadOwner(psid)).appId, emu.primary.appId)

  await bot.passThreadControl(psid, emu.secondary.appId, { metadata: 'to secondary' })
  assert.equal((await bot.threadOwner(psid)).appId, emu.secondary.appId)

  await bot.requestThreadControl(psid, { metadata: 'may I?' })
  const secondary = emu.client('secondary')
  await secondary.releaseThreadControl(psid)
  assert.equal((await bot.threadOwner(psid)).appId, emu.primary.appId)

  await bot.passThreadControlToPageInbox(psid)
  await inbox.releaseThreadControl(psid, { metadata: 'done' })
  assert.equal((await bot.threadOwner(psid)).appId, emu.primary.appId)

  const log = emu.requestLog().filter((r) => r.method === 'POST')
  assert.ok(log.length >= 6)
  const pass = log.find((r) => r.path.endsWith('/pass_thread_control'))
  assert.deepEqual(pass.body, {
    recipient: { id: psid },
    target_app_id: PAGE_INBOX_APP_ID,
    metadata: 'needs a human',
  })
  for (const r of emu.requestLog()) {
    assert.equal(r.tokenInQuery, false)
    assert.equal(r.auth, 'header')
  }
  for (const c of [bot, inbox, secondary]) c.close()
})

test('routing: idle threads, expiration as a Date, extend', async () => {
  const bot = routing.client()
  const psid = freshPsid()
  const before = await bot.threadOwner(psid)
  if (before === null) {
    await bot.takeThreadControl(psid)
  }
  const owner = await bot.threadOwner(psid)
  assert.equal(owner.appId, routing.primary.appId)
  assert.ok(owner.expiration instanceof Date)
  await bot.extendThreadControl(psid, 3600)
  const extended = await bot.threadOwner(psid)
  assert.ok(Math.abs(extended.expiration.getTime() - (Date.now() + 3600_000)) < 60_000)
  await bot.releaseThreadControl(psid)
  assert.equal(await bot.threadOwner(psid), null)
  const body = routing.requestLog().find((r) => r.path.endsWith('/extend_thread_control')).body
  assert.deepEqual(body, { recipient: { id: psid }, duration: 3600 })
  bot.close()
})

test('secondaryReceivers lists the other apps as { id, name }', async () => {
  const bot = emu.client()
  const apps = await bot.secondaryReceivers()
  assert.deepEqual(apps, [
    { id: emu.secondary.appId, name: 'Helpdesk Secondary' },
    { id: PAGE_INBOX_APP_ID, name: 'Page Inbox' },
  ])
  for (const a of apps) assert.equal(typeof a.id, 'string')
})

test('appSecret adds appsecret_proof; the emulator accepts it', async () => {
  const bot = emu.client('primary', { appSecret: emu.primary.secret })
  await bot.threadOwner(freshPsid())
  const last = emu.requestLog().at(-1)
  assert.match(last.query.appsecret_proof, /^[0-9a-f]{64}$/)
  assertHidden(emu.primary.secret, bot, last)
})

test('lastUsage holds the usage headers, camelCase', async () => {
  const bot = emu.client()
  assert.equal(bot.lastUsage, null)
  await bot.threadOwner(freshPsid())
  const u = bot.lastUsage
  assert.equal(typeof u.app.callCount, 'number')
  assert.ok(Array.isArray(u.businessUseCase))
  assert.equal(u.businessUseCase[0].id, emu.pageId)
})

test('a closed client refuses new calls', async () => {
  const bot = emu.client()
  bot.close()
  bot.close()
  assert.equal(bot.closed, true)
  await assert.rejects(bot.threadOwner('1'), { code: 'ERR_INVALID_STATE' })
})

test('inspect and JSON of a client show no token', () => {
  const bot = new Client({ accessToken: 'EAAG-very-secret-token', pageId: '42', appSecret: 'app-secret-xyz' })
  const shown = inspect(bot)
  assert.match(shown, /pageId: '42'/)
  assert.match(shown, /\[redacted\]/)
  assertHidden('very-secret-token', bot, { bot })
  assertHidden('app-secret-xyz', bot)
  assert.equal(bot.baseUrl, 'https://graph.facebook.com')
  assert.equal(bot.apiVersion, 'v26.0')
})

test('emulator credentials hide token and secret from inspect and JSON', () => {
  assertHidden(emu.primary.token, emu, emu.primary, emu.pageInbox)
  assertHidden(emu.primary.secret, emu, emu.primary)
  assert.match(emu.primary.token, /^EAAG/)
})

test('version is the package version', async () => {
  const { readFileSync } = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../../bindings-node/package.json', import.meta.url), 'utf8'))
  assert.equal(typeof version, 'string')
  assert.equal(version, pkg.version)
})

test('maxResponseBytes: a larger answer is a ProtocolError, sent once', async () => {
  const big = JSON.stringify({ data: [{ thread_owner: { app_id: '1' }, pad: 'x'.repeat(4096) }] })
  emu.clearRequestLog()
  emu.injectFault({ count: 2, action: { type: 'malformed', status: 200, body: big } })
  await assert.rejects(emu.client('primary', { maxResponseBytes: 1024 }).threadOwner(freshPsid()), (e) => {
    assert.ok(e instanceof ProtocolError, inspect(e))
    assert.match(e.message, /1024/)
    return true
  })
  assert.equal(emu.requestLog().length, 1)
  assert.ok(await emu.client('primary', { maxResponseBytes: 8192 }).threadOwner(freshPsid()), 'under the cap')
})

test('Emulator.start options logRequests and rateLimit; stopped', async () => {
  const quiet = await Emulator.start({
    conversations: 5,
    logRequests: false,
    rateLimit: { enabled: true, maxCalls: 2, windowSecs: 60, code: 613, regainMinutes: 1 },
  })
  assert.equal(quiet.stopped, false)
  try {
    const c = quiet.client('primary', { maxRetries: 0 })
    await c.threadOwner(freshPsid())
    await c.threadOwner(freshPsid())
    await assert.rejects(quiet.client('primary', { maxRetries: 0 }).threadOwner(freshPsid()), (e) => {
      assert.ok(e instanceof RateLimitError, inspect(e))
      assert.equal(e.code, 613)
      return true
    })
    assert.deepEqual(quiet.requestLog(), [], 'logRequests: false keeps no log')
  } finally {
    await quiet.stop()
  }
  assert.equal(quiet.stopped, true)
})
