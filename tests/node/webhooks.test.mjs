// Webhooks: the shared signature and parsing vectors, the handler, and an
// end-to-end round trip (the emulator POSTs a signed event to our server).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import {
  Emulator,
  ThreadControlError,
  WebhookError,
  createWebhookHandler,
  freshPsid,
  parseEvents,
  signWebhookBody,
  verifySignature,
  verifySubscription,
} from './helpers.mjs'

const vectors = (name) =>
  JSON.parse(readFileSync(new URL(`../conformance/webhooks/${name}.json`, import.meta.url), 'utf8')).vectors

for (const v of vectors('signatures')) {
  test(`signature vector: ${v.name}`, () => {
    const body = Buffer.from(v.body, 'utf8')
    assert.equal(verifySignature(v.app_secret, body, v.header ?? undefined), v.expect)
    assert.equal(verifySignature(v.app_secret, v.body, v.header), v.expect)
    assert.equal(verifySignature(v.app_secret, new Uint8Array(body), v.header), v.expect)
  })
}

const KEYS = {
  page_id: 'pageId',
  new_owner_app_id: 'newOwnerAppId',
  previous_owner_app_id: 'previousOwnerAppId',
  requested_owner_app_id: 'requestedOwnerAppId',
  is_echo: 'isEcho',
  app_id: 'appId',
}

// An event as the vectors write it: snake_case keys, timestamp_ms; a
// standby's inner event likewise.
const canonical = (e) => {
  const out = {}
  for (const [k, v] of Object.entries(e)) {
    if (k === 'timestamp') out.timestamp_ms = v instanceof Date ? v.getTime() : null
    else if (k === 'event' && e.type === 'standby') out.event = canonical(v)
    else out[Object.keys(KEYS).find((s) => KEYS[s] === k) ?? k] = v
  }
  return out
}

for (const v of vectors('events')) {
  test(`parsing vector: ${v.name}`, () => {
    const body = 'body_text' in v ? v.body_text : JSON.stringify(v.body)
    if (v.expect.error) {
      assert.throws(() => parseEvents(body), (e) => e instanceof WebhookError && e.reason === v.expect.error)
      return
    }
    const events = parseEvents(Buffer.from(body))
    if ('count' in v.expect) {
      assert.equal(events.length, v.expect.count)
      return
    }
    assert.equal(events.length, v.expect.events.length)
    v.expect.events.forEach((want, i) => assert.deepEqual(canonical(events[i]), want, `event ${i}`))
  })
}

test('verifySubscription answers the handshake or throws a WebhookError', () => {
  const q = 'hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444'
  assert.equal(verifySubscription(q, 'tok'), '1158201444')
  assert.equal(verifySubscription(new URLSearchParams(q), 'tok'), '1158201444')
  assert.equal(verifySubscription(Object.fromEntries(new URLSearchParams(q)), 'tok'), '1158201444')
  assert.throws(() => verifySubscription(q, 'other'), WebhookError)
  assert.throws(() => verifySubscription('hub.mode=unsubscribe', 'tok'), (e) => e.reason === 'subscription')
})

async function listen(handler) {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${server.address().port}/webhook` }
}

test('the handler: handshake, bad signature, good batch', async () => {
  const seen = []
  const handler = createWebhookHandler({ appSecret: 's3cret', verifyToken: 'vt', onEvent: (e) => seen.push(e) })
  const { server, url } = await listen(handler)
  try {
    let r = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42`)
    assert.equal(r.status, 200)
    assert.equal(await r.text(), '42')
    r = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42`)
    assert.equal(r.status, 403)
    const body = JSON.stringify({ object: 'page', entry: [{ id: '1', messaging: [{ sender: { id: '9' }, timestamp: 1, take_thread_control: { previous_owner_app_id: 5 } }] }] })
    r = await fetch(url, { method: 'POST', body, headers: { 'x-hub-signature-256': signWebhookBody('wrong', body) } })
    assert.equal(r.status, 403)
    r = await fetch(url, { method: 'POST', body })
    assert.equal(r.status, 403)
    r = await fetch(url, { method: 'POST', body, headers: { 'x-hub-signature-256': signWebhookBody('s3cret', body) } })
    assert.equal(r.status, 200)
    assert.equal(seen.length, 1)
    assert.equal(seen[0].type, 'take_thread_control')
    assert.equal(seen[0].previousOwnerAppId, '5')
    const bad = '{not json'
    r = await fetch(url, { method: 'POST', body: bad, headers: { 'x-hub-signature-256': signWebhookBody('s3cret', bad) } })
    assert.equal(r.status, 400)
  } finally {
    server.close()
  }
})

test('the handler as Express-style middleware with a raw body already read', async () => {
  const handler = createWebhookHandler({ appSecret: 'k', onEvents: () => {} })
  const body = Buffer.from('{"object":"page","entry":[]}')
  const res = { statusCode: 0, headers: {}, headersSent: false, setHeader() {}, end(t) { this.text = t } }
  await handler({ method: 'POST', headers: { 'x-hub-signature-256': signWebhookBody('k', body) }, body }, res, () => assert.fail('next'))
  assert.equal(res.statusCode, 200)
  let passed = null
  const res2 = { ...res, statusCode: 0 }
  await handler({ method: 'POST', headers: {}, body: { object: 'page' } }, res2, (err) => (passed = err))
  assert.ok(passed instanceof WebhookError, 'a parsed JSON body cannot be verified')
})

test('end to end: the emulator POSTs signed handover events to our server', async () => {
  const emu = await Emulator.start({ conversations: 5 })
  const received = []
  let wake
  const handler = createWebhookHandler({
    appSecret: emu.pageInbox.secret,
    verifyToken: 'vt',
    onEvent: (e) => {
      received.push(e)
      wake?.()
    },
  })
  const { server, url } = await listen(handler)
  try {
    emu.setWebhook('pageInbox', url)
    const psid = freshPsid()
    const arrived = new Promise((r) => (wake = r))
    await emu.client().passThreadControlToPageInbox(psid, { metadata: 'human please' })
    await Promise.race([arrived, new Promise((_, rej) => setTimeout(() => rej(new Error('no webhook in 5 s')), 5000))])
    const ev = received.find((e) => e.type === 'pass_thread_control')
    assert.ok(ev, JSON.stringify(received))
    assert.equal(ev.psid, psid)
    assert.equal(ev.pageId, emu.pageId)
    assert.equal(ev.newOwnerAppId, emu.pageInbox.appId)
    assert.equal(ev.previousOwnerAppId, emu.primary.appId)
    assert.equal(ev.metadata, 'human please')
    assert.ok(ev.timestamp instanceof Date)

    // A user message while the Page Inbox owns the thread: the bot gets a standby copy.
    const standby = []
    const bot = await listen(createWebhookHandler({ appSecret: emu.primary.secret, onEvent: (e) => standby.push(e) }))
    try {
      emu.setWebhook('primary', bot.url)
      await emu.simulateMessage(psid, 'hello?')
      assert.ok(standby.some((e) => e.type === 'standby' && e.psid === psid), JSON.stringify(standby))
    } finally {
      bot.server.close()
    }
  } finally {
    server.close()
    await emu.stop()
  }
})

test('end to end: a new primary receiver gets app_roles, and its powers', async () => {
  const emu = await Emulator.start({ conversations: 5 })
  const seen = { primary: [], secondary: [] }
  const servers = []
  try {
    for (const app of ['primary', 'secondary']) {
      const handler = createWebhookHandler({ appSecret: emu[app].secret, onEvent: (e) => seen[app].push(e) })
      const s = await listen(handler)
      servers.push(s.server)
      emu.setWebhook(app, s.url)
    }
    await emu.setPrimaryReceiver('secondary')
    // Each handler verified the signature with its own app's secret before onEvent.
    assert.deepEqual(
      seen.secondary.map((e) => [e.type, e.roles, e.psid ?? null]),
      [['app_roles', { [emu.secondary.appId]: ['primary_receiver'] }, null]],
    )
    assert.deepEqual(
      seen.primary.map((e) => [e.type, e.roles]),
      [['app_roles', { [emu.primary.appId]: ['secondary_receiver'] }]],
    )
    const psid = freshPsid()
    await emu.client('secondary').takeThreadControl(psid)
    assert.equal((await emu.client('secondary').threadOwner(psid)).appId, emu.secondary.appId)
    await assert.rejects(emu.client().takeThreadControl(psid), ThreadControlError)
    await assert.rejects(emu.setPrimaryReceiver('nobody'), TypeError)
  } finally {
    for (const s of servers) s.close()
    await emu.stop()
  }
})
