// Conversation Routing and batch requests through the Node client, against
// the emulator over real HTTP: featureStatus, the Instagram Inbox, #27 and
// the thread-control hints, a test per routing rule (expiry on the emulated
// clock), batch of 120 mixed operations and threadOwners for 500 PSIDs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Client,
  Emulator,
  ScriptedServer,
  BlockedError,
  HandoverError,
  InvalidParameterError,
  ThreadControlError,
  TransportError,
  INSTAGRAM_INBOX_APP_ID,
  PAGE_INBOX_APP_ID,
  batchOp,
} from './helpers.mjs'

const PSID = '1357924680'
const DAY = 24 * 3600

async function withEmulator(options, body) {
  const emu = await Emulator.start({ conversations: 5, ...options })
  try {
    await body(emu)
  } finally {
    await emu.stop()
  }
}

const routing = (body, defaultApp = 'primary') => withEmulator({ mode: 'routing', defaultApp }, body)

/** Outer batch requests the emulator saw (its operations are logged apart). */
const batchRequests = (emu) =>
  emu.requestLog().filter((r) => r.method === 'POST' && r.path === '/' && r.batchIndex == null).length

// ------------------------------------------------------------ feature status

test('featureStatus reads the Page field', () =>
  routing(async (emu) => {
    emu.setFeatureStatus({ hopV2: true, msgrMultiApp: false, igMultiApp: true })
    const bot = emu.client()
    const status = await bot.featureStatus()
    assert.deepEqual(status, { hopV2: true, msgrMultiApp: false, igMultiApp: true })
    const entry = emu.requestLog().at(-1)
    assert.equal(entry.method, 'GET')
    assert.equal(entry.path, `/v26.0/${emu.pageId}`)
    assert.equal(entry.query.fields, 'messaging_feature_status')
    assert.deepEqual(await bot.batch([batchOp.featureStatus()]), [{ ok: true, value: status }])
    await assert.rejects(bot.featureStatus({ signal: AbortSignal.abort() }), { name: 'AbortError' })
  }))

// ------------------------------------------------------------ the inboxes

test('pass to the Instagram Inbox', () =>
  routing(async (emu) => {
    assert.equal(INSTAGRAM_INBOX_APP_ID, '1217981644879628')
    assert.equal(PAGE_INBOX_APP_ID, '263902037430900')
    const bot = emu.client()
    await bot.takeThreadControl(PSID)
    await bot.passThreadControlToPageInbox(PSID, { metadata: 'IG human', platform: 'instagram' })
    assert.equal((await bot.threadOwner(PSID)).appId, INSTAGRAM_INBOX_APP_ID)
    const pass = emu.requestLog().findLast((r) => r.path.endsWith('/pass_thread_control'))
    assert.equal(pass.body.target_app_id, INSTAGRAM_INBOX_APP_ID)

    await bot.takeThreadControl('24680')
    await bot.passThreadControlToPageInbox('24680', { platform: 'messenger' })
    assert.equal((await bot.threadOwner('24680')).appId, PAGE_INBOX_APP_ID)
    await bot.takeThreadControl('35791')
    const r = await bot.batch([batchOp.passThreadControlToPageInbox('35791', { platform: 'instagram' })])
    assert.deepEqual(r, [{ ok: true, value: null }])
    assert.equal((await bot.threadOwner('35791')).appId, INSTAGRAM_INBOX_APP_ID)

    // A platform that does not exist is refused before anything is sent.
    const before = emu.requestLog().length
    await assert.rejects(bot.passThreadControlToPageInbox(PSID, { platform: 'whatsapp' }), (e) => {
      assert.ok(e instanceof RangeError || e instanceof TypeError, String(e))
      assert.match(e.message, /platform/)
      return true
    })
    await assert.rejects(bot.passThreadControlToPageInbox(PSID, { platform: 3 }), TypeError)
    assert.equal(emu.requestLog().length, before)
  }))

// ------------------------------------------------------------ #27 and the hints

test('take without a default app is #27, with its hint', () =>
  routing(async (emu) => {
    await assert.rejects(emu.client().takeThreadControl(PSID), (e) => {
      assert.ok(e instanceof ThreadControlError, String(e))
      assert.equal(e.code, 27)
      assert.equal(e.kind, 'thread_control')
      assert.match(e.hint, /default app/)
      assert.ok(e.message.includes(e.hint), 'the hint is in the message too')
      return true
    })
  }, null))

test('thread-control errors carry hints', () =>
  routing(async (emu) => {
    const bot = emu.client()
    const other = emu.client('secondary')
    await bot.takeThreadControl(PSID)
    await assert.rejects(other.passThreadControlToPageInbox(PSID), (e) => {
      assert.ok(e instanceof ThreadControlError, String(e))
      assert.ok(e.hint.includes('thread_owner') && e.hint.includes('request_thread_control'), e.hint)
      assert.ok(e.message.endsWith(e.hint), e.message)
      return true
    })
    await assert.rejects(other.takeThreadControl(PSID), (e) => e instanceof ThreadControlError && Boolean(e.hint))
    const stranger = new Client({ accessToken: 'EAAG-not-a-token', baseUrl: emu.url, pageId: emu.pageId })
    await assert.rejects(stranger.threadOwner(PSID), (e) => {
      assert.ok(e instanceof HandoverError && !(e instanceof ThreadControlError), String(e))
      assert.equal(e.hint, undefined)
      return true
    })
  }))

// ------------------------------------------------------------ the routing rules

test('without a default app every app may answer an idle thread', () =>
  routing(async (emu) => {
    const bot = emu.client()
    const other = emu.client('secondary')
    assert.equal(await bot.threadOwner(PSID), null, 'threads start idle')
    await other.passThreadControl(PSID, emu.primary.appId)
    assert.equal((await bot.threadOwner(PSID)).appId, emu.primary.appId)
  }, null))

test('request on an idle thread passes it', () =>
  routing(async (emu) => {
    const other = emu.client('secondary')
    await other.requestThreadControl('97531', { metadata: 'mine' })
    assert.equal((await other.threadOwner('97531')).appId, emu.secondary.appId)
  }, null))

test('with a default app only it answers an idle thread', () =>
  routing(async (emu) => {
    const bot = emu.client()
    const other = emu.client('secondary')
    await assert.rejects(other.passThreadControl(PSID, emu.primary.appId), ThreadControlError)
    await bot.passThreadControl(PSID, emu.secondary.appId)
    assert.equal((await other.threadOwner(PSID)).appId, emu.secondary.appId)
    emu.setDefaultApp('secondary')
    await assert.rejects(bot.passThreadControl('86420', emu.secondary.appId), ThreadControlError)
    await other.passThreadControl('86420', emu.primary.appId)
  }))

test('control expires after a day', () =>
  routing(async (emu) => {
    const bot = emu.client()
    await bot.takeThreadControl(PSID)
    const owner = await bot.threadOwner(PSID)
    assert.ok(owner.expiration instanceof Date)
    const left = owner.expiration.getTime() - emu.now().getTime()
    assert.ok(left > 23 * 3600_000 && left <= 24 * 3600_000, String(left))
    emu.advanceClock(DAY - 60)
    assert.notEqual(await bot.threadOwner(PSID), null, 'still held a minute before expiry')
    emu.advanceClock(120)
    assert.equal(await bot.threadOwner(PSID), null, 'idle once the day is over')
    await assert.rejects(bot.extendThreadControl(PSID, 3600), ThreadControlError)
  }))

test('extend lengthens control; release idles the thread', () =>
  routing(async (emu) => {
    const bot = emu.client()
    await bot.takeThreadControl(PSID)
    await bot.extendThreadControl(PSID, 7 * DAY)
    emu.advanceClock(6 * DAY)
    assert.notEqual(await bot.threadOwner(PSID), null, 'extended to 7 days')
    emu.advanceClock(DAY + 60)
    assert.equal(await bot.threadOwner(PSID), null)
    await bot.takeThreadControl(PSID)
    await bot.releaseThreadControl(PSID)
    assert.equal(await bot.threadOwner(PSID), null)
  }))

test('only the owner and the default app see who owns', () =>
  routing(async (emu) => {
    const bot = emu.client()
    const other = emu.client('secondary')
    const inbox = emu.client('pageInbox')
    await bot.takeThreadControl(PSID)
    await bot.passThreadControl(PSID, emu.secondary.appId)
    for (const c of [other, bot]) {
      const o = await c.threadOwner(PSID)
      assert.equal(o.appId, emu.secondary.appId)
      assert.ok(o.expiration instanceof Date)
    }
    const hidden = await inbox.threadOwner(PSID)
    assert.equal(hidden.appId, '')
    assert.ok(hidden.expiration instanceof Date)
    const owners = await inbox.threadOwners([PSID, '11223344'])
    assert.equal(owners[0].ok, true)
    assert.equal(owners[0].value.appId, '')
    assert.deepEqual(owners[1], { ok: true, value: null }, 'an idle thread has no owner')
  }))

test('Conversation.isOwner is typed', async () => {
  // The emulator does not render is_owner; the scripted server answers as the Graph API does.
  const server = await ScriptedServer.start()
  try {
    server.pushResponse({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { data: [{ id: 't_1', is_owner: true }, { id: 't_2', is_owner: false }, { id: 't_3' }] },
    })
    const client = new Client({ accessToken: 'conformance-token', baseUrl: server.url, maxRetries: 0 })
    const page = await client.conversations({ fields: ['id', 'is_owner'] }).nextPage()
    assert.deepEqual(
      page.items.map((c) => c.isOwner),
      [true, false, null],
    )
    client.close()
  } finally {
    await server.stop()
  }
})

// ------------------------------------------------------------ batch

const psid = (i) => String(4_000_000_000 + i)

/** A pattern of five (50 is a multiple of five: a slot in its request says its kind). */
function mixed(i) {
  return [
    batchOp.passThreadControlToPageInbox(psid(i), { metadata: 'human please' }),
    batchOp.threadOwner(psid(i)),
    batchOp.passThreadControl(psid(i), '999999999'),
    { op: 'thread_owner', psid: `0${i}` }, // a leading 0: no user, to the emulator
    batchOp.secondaryReceivers(),
  ][i % 5]
}

test('batch of 120 mixed operations: 120 results in order, 3 requests', () =>
  withEmulator({}, async (emu) => {
    // Slot 5 of some request: a pass that runs, then answers null (never resent).
    emu.injectFault({ match: { batchIndex: 5 }, action: { type: 'null_item', applied: true } })
    // Slot 10 of some request: a pass refused as blocked (368).
    emu.injectFault({
      match: { batchIndex: 10 },
      action: { type: 'graph_error', error: { code: 368, message: '(#368) Temporarily blocked for policies violations' } },
    })
    const bot = emu.client({ retryBaseDelayMs: 5 })
    const results = await bot.batch(Array.from({ length: 120 }, (_, i) => mixed(i)))
    assert.equal(results.length, 120)
    assert.equal(batchRequests(emu), 3, '120 operations take 3 requests of at most 50')
    const nulls = []
    const blocked = []
    results.forEach((r, i) => {
      switch (i % 5) {
        case 0:
          if (r.ok) assert.equal(r.value, null, `${i}`)
          else if (r.error instanceof TransportError) nulls.push(i)
          else if (r.error instanceof BlockedError) blocked.push(i)
          else assert.fail(`${i}: ${r.error}`)
          break
        case 1:
          assert.equal(r.ok, true, `${i}`)
          assert.equal(r.value.appId, emu.primary.appId)
          break
        case 2:
          assert.equal(r.ok, false, `${i}`)
          assert.ok(r.error instanceof ThreadControlError, `${i}: ${r.error}`)
          assert.ok(r.error.hint, `${i}: a thread-control error carries a hint`)
          break
        case 3:
          assert.ok(!r.ok && r.error instanceof InvalidParameterError, `${i}: ${r.error}`)
          break
        default:
          assert.equal(r.ok, true, `${i}`)
          assert.ok(r.value.some((a) => a.id === PAGE_INBOX_APP_ID), `${i}`)
      }
    })
    assert.equal(nulls.length, 1, `one null item: ${nulls}`)
    assert.equal(blocked.length, 1, `one blocked item: ${blocked}`)
    assert.equal(nulls[0] % 50, 5)
    assert.equal(blocked[0] % 50, 10)
    assert.match(results[nulls[0]].error.message, /not sent again/)
    const nullPsid = psid(nulls[0])
    const sent = emu
      .requestLog()
      .filter((r) => r.batchIndex != null && r.path.endsWith('/pass_thread_control') && r.body.recipient.id === nullPsid)
    assert.equal(sent.length, 1, 'the null pass ran and was never resent')
    assert.equal(emu.state().threads[nullPsid].owner, PAGE_INBOX_APP_ID)
    for (const r of emu.requestLog()) assert.equal(r.tokenInQuery, false)
  }))

test('batch refuses bad operations before sending', () =>
  withEmulator({}, async (emu) => {
    const bot = emu.client()
    await assert.rejects(bot.batch([batchOp.threadOwner('1'), batchOp.passThreadControl('2', '12a')]), (e) => {
      assert.equal(e.argument, 'targetAppId')
      assert.match(e.message, /batch operation 1/)
      return true
    })
    await assert.rejects(bot.batch([{ op: 'EAAG-looks-like-a-token', psid: '1' }]), (e) => {
      assert.match(e.message, /batch operation 0/)
      assert.ok(!e.message.includes('EAAG'), e.message)
      return true
    })
    await assert.rejects(bot.batch('thread_owner'), TypeError)
    await assert.rejects(bot.batch([42]), TypeError)
    assert.throws(() => batchOp.threadOwner(42), TypeError)
    await assert.rejects(bot.batch([batchOp.extendThreadControl('1', 8 * DAY)]), /duration/)
    await assert.rejects(bot.batch([batchOp.extendThreadControl('1', 1.5)]), /duration/)
    assert.deepEqual(await bot.batch([]), [])
    assert.deepEqual(emu.requestLog(), [], 'nothing was sent')
    assert.deepEqual(batchOp.passThreadControlToPageInbox('1', { platform: 'instagram' }), {
      op: 'pass_thread_control_to_page_inbox',
      psid: '1',
      platform: 'instagram',
    })
  }))

test('threadOwners for 500 PSIDs: one result per PSID, in order, 10 requests', () =>
  routing(async (emu) => {
    const bot = emu.client()
    const owned = new Set()
    for (let i = 0; i < 500; i += 7) owned.add(psid(i))
    await bot.batch([...owned].map((p) => batchOp.takeThreadControl(p)))
    emu.clearRequestLog()
    const psids = Array.from({ length: 499 }, (_, i) => psid(i))
    await assert.rejects(bot.threadOwners([...psids, 'bad/psid']), /psid/)
    await assert.rejects(bot.threadOwners('1234'), TypeError)
    // A PSID is digits, in a batch as in one call: a token passed as one is not sent.
    await assert.rejects(bot.threadOwners([...psids, 'EAAGnot-a-psid']), (e) => e.argument === 'psid' && !e.message.includes('EAAG'))
    assert.equal(batchRequests(emu), 0)
    const owners = await bot.threadOwners([...psids, '0123']) // a leading 0: no user, to the emulator
    assert.equal(owners.length, 500)
    assert.equal(batchRequests(emu), 10)
    psids.forEach((p, i) => {
      assert.equal(owners[i].ok, true, p)
      if (owned.has(p)) assert.equal(owners[i].value.appId, emu.primary.appId, p)
      else assert.equal(owners[i].value, null, p)
    })
    assert.equal(owners[499].ok, false)
    assert.ok(owners[499].error instanceof InvalidParameterError)
  }))
