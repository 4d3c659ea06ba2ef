// The emulator's admin calls through messenger-handover/testing, one small test each.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'

import { Emulator, ScriptedServer } from '../../bindings-node/testing.mjs'

const V = 'v26.0'

/** A raw Graph call (token in the query, form body), as the peers' SDKs send it. */
async function graph(emu, path, { app = 'primary', form } = {}) {
  const sep = path.includes('?') ? '&' : '?'
  const url = `${emu.url}/${path}${sep}access_token=${emu[app].token}`
  const init = form ? { method: 'POST', body: new URLSearchParams(form) } : {}
  const resp = await fetch(url, init)
  return [resp.status, await resp.json()]
}

async function withEmulator(options, f) {
  const emu = await Emulator.start({ conversations: 10, ...options })
  try {
    await f(emu)
  } finally {
    await emu.stop()
  }
}

test('the Instagram Inbox app is exposed', () =>
  withEmulator({}, async (emu) => {
    assert.equal(emu.instagramInbox.appId, '1217981644879628')
    assert.ok(!inspect(emu.instagramInbox).includes(emu.instagramInbox.token))
    assert.throws(() => emu.setWebhook('nobody', null), TypeError)
  }))

test('advanceClock expires routing control', () =>
  withEmulator({ mode: 'routing' }, async (emu) => {
    const start = emu.now()
    await emu.simulateMessage('4242', 'hello')
    assert.equal(emu.state().threads['4242'].owner_role, 'primary')
    const later = emu.advanceClock(24 * 3600 + 1)
    assert.ok(later - start >= 24 * 3600 * 1000)
    assert.equal(emu.state().threads['4242'].owner, null)
    assert.throws(() => emu.advanceClock(-1), RangeError)
  }))

test('defaultApp null makes take answer #27; setDefaultApp restores it', () =>
  withEmulator({ mode: 'routing', defaultApp: null }, async (emu) => {
    const form = { recipient: '{"id":"77"}' }
    let [status, body] = await graph(emu, `${V}/me/take_thread_control`, { form })
    assert.equal(status, 400)
    assert.equal(body.error.code, 27)
    emu.setDefaultApp('primary')
    ;[status] = await graph(emu, `${V}/me/take_thread_control`, { form })
    assert.equal(status, 200)
  }))

test('setFeatureStatus', () =>
  withEmulator({}, async (emu) => {
    emu.setFeatureStatus({ hopV2: true, msgrMultiApp: false, igMultiApp: false })
    const [, body] = await graph(emu, `${V}/me?fields=messaging_feature_status`)
    assert.deepEqual(body.messaging_feature_status, { hop_v2: true, msgr_multi_app: false, ig_multi_app: false })
  }))

test('bumpConversation moves a conversation to the top', () =>
  withEmulator({ conversations: 30 }, async (emu) => {
    const convs = emu.conversations()
    const last = convs.at(-1).id
    assert.equal(emu.bumpConversation(last, 'any news?').id, last)
    assert.equal(emu.conversations()[0].id, last)
    assert.ok(typeof emu.conversations()[0].messageCount === 'number')
    assert.throws(() => emu.bumpConversation('t_0'))
  }))

test('setConversationsPacing', () =>
  withEmulator({}, async (emu) => {
    emu.setConversationsPacing(1)
    const codes = []
    for (let i = 0; i < 2; i++) codes.push((await graph(emu, `${V}/me/conversations?limit=1`))[0])
    assert.deepEqual(codes, [200, 400])
    assert.equal(emu.requestLog().at(-1).errorCode, 613)
  }))

test('logCapacity and setLogCapacity', () =>
  withEmulator({ logCapacity: 3 }, async (emu) => {
    for (let i = 0; i < 5; i++) await graph(emu, `${V}/me/thread_owner?recipient=${i}`)
    assert.deepEqual(emu.requestLog().map((e) => e.seq), [3, 4, 5])
    emu.setLogCapacity(1)
    assert.equal(emu.requestLog().length, 1)
    assert.equal(emu.state().requests_dropped, 4)
  }))

test('a null_item fault in a batch', () =>
  withEmulator({}, async (emu) => {
    emu.injectFault({ match: { batchIndex: 0 }, action: { type: 'null_item' } })
    const ops = [{ method: 'GET', relative_url: 'me/thread_owner?recipient=5' }, { method: 'GET', relative_url: 'me/thread_owner?recipient=5' }]
    const [status, body] = await graph(emu, '', { form: { batch: JSON.stringify(ops) } })
    assert.equal(status, 200)
    assert.equal(body[0], null)
    assert.equal(body[1].code, 200)
    assert.equal(emu.requestLog().find((e) => e.batchIndex === 0).fault, 'null_item')
  }))

test('too many conversations is a RangeError, not an abort', async () => {
  // Generated up front: too many of them was an allocation failure, which aborts the process.
  await assert.rejects(Emulator.start({ conversations: 50_000_000 }), (e) => {
    assert.equal(e.name, 'RangeError', e.message)
    assert.match(e.message, /conversations: at most 5000000/)
    return true
  })
})

test('a status HTTP cannot carry is refused, not served as a 500', async () => {
  await withEmulator({}, async (emu) => {
    for (const action of [{ type: 'status', status: 1000 }, { type: 'graph_error', status: 42, error: { code: 1 } },
      { type: 'malformed', status: 0 }, { type: 'reset_mid_body', status: 99 }]) {
      assert.throws(() => emu.injectFault({ action }), /100-999/)
    }
  })
  const server = await ScriptedServer.start()
  try {
    assert.throws(() => server.pushResponse({ status: 1000 }), (e) => e.name === 'RangeError' && /100-999/.test(e.message))
    server.pushResponse({ status: 0 })
  } finally {
    await server.stop()
  }
})

test('a refused app is named only when it looks like a name', () =>
  withEmulator({}, async (emu) => {
    const token = 'EAAGsecretTokenPassedInTheWrongPlace0123456789'
    assert.throws(() => emu.client(token), (e) => !e.message.includes(token) && /not shown/.test(e.message))
    assert.throws(() => emu.client('tertiary'), /"tertiary"/)
  }))
