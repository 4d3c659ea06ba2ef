// Conversations: item by item to the end, page by page, breaking early
// (fetching stops), resuming from `after`, typed fields and `raw`.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { Emulator, Conversations } from './helpers.mjs'

let emu
let bot
const convRequests = () => emu.requestLog().filter((r) => r.path.endsWith('/conversations'))

before(async () => {
  emu = await Emulator.start({ conversations: 500 })
  bot = emu.client()
})
after(async () => {
  bot.close()
  await emu.stop()
})

async function countAll(options) {
  const ids = []
  for await (const c of bot.conversations(options)) ids.push(c.id)
  return ids
}

test('for await walks every conversation of a folder to the end', async () => {
  emu.clearRequestLog()
  const ids = await countAll({ folder: 'inbox', pageSize: 25 })
  assert.ok(ids.length > 25, `only ${ids.length}`)
  assert.equal(new Set(ids).size, ids.length, 'no conversation twice')
  const pages = Math.ceil(ids.length / 25)
  assert.equal(convRequests().length, pages, 'one request per page, none after the last')
  for (const r of convRequests()) assert.equal(r.query.limit, '25')
  // The whole Page: four folders on two platforms add up to all generated.
  let total = ids.length
  for (const platform of ['messenger', 'instagram']) {
    for (const folder of ['inbox', 'other', 'page_done', 'spam']) {
      if (platform === 'messenger' && folder === 'inbox') continue
      total += (await countAll({ folder, platform, pageSize: 100 })).length
    }
  }
  assert.equal(total, 500)
})

test('pages() yields { items, after, hasNext }; after resumes', async () => {
  const pager = bot.conversations({ folder: 'inbox', pageSize: 10 })
  assert.ok(pager instanceof Conversations)
  assert.equal(pager.after, null)
  const firstTwo = []
  for await (const page of pager.pages()) {
    assert.ok(Array.isArray(page.items))
    assert.equal(typeof page.hasNext, 'boolean')
    firstTwo.push(...page.items.map((c) => c.id))
    if (firstTwo.length >= 20) break
  }
  const cursor = pager.after
  assert.equal(typeof cursor, 'string')
  const rest = await countAll({ folder: 'inbox', pageSize: 10, after: cursor })
  const all = await countAll({ folder: 'inbox', pageSize: 10 })
  assert.deepEqual([...firstTwo, ...rest], all)
})

async function waitForRequests(n) {
  for (let i = 0; i < 1000 && convRequests().length < n; i++) await sleep(10)
  return convRequests()
}

test('the next page is prefetched before it is asked for', async () => {
  emu.clearRequestLog()
  const pager = bot.conversations({ folder: 'inbox', pageSize: 10 })
  const page = await pager.nextPage()
  assert.ok(page.hasNext && page.after)
  // Page two is requested while the caller still holds page one.
  let reqs = await waitForRequests(2)
  assert.equal(reqs.length, 2)
  assert.equal(reqs[0].query.after, undefined)
  assert.equal(reqs[1].query.after, page.after)
  await sleep(300)
  assert.equal(convRequests().length, 2, 'one page ahead, never two')
  const second = await pager.nextPage()
  reqs = await waitForRequests(3)
  assert.equal(reqs.length, 3, 'page two came from the prefetch; page three is prefetched in turn')
  assert.equal(reqs[2].query.after, second.after)
  pager.close()
})

test('pages whose prefetch landed while the caller was busy: nothing lost, after exact to the item', async () => {
  const everything = await countAll({ folder: 'inbox', pageSize: 10 })
  const pager = bot.conversations({ folder: 'inbox', pageSize: 10 })
  const seen = []
  for await (const c of pager) {
    seen.push(c.id)
    // A slow consumer at each page's end: the next page has landed when asked for.
    if (seen.length % 10 === 0) await sleep(50)
    if (seen.length === 35) break
  }
  assert.deepEqual(seen, everything.slice(0, 35))
  assert.deepEqual(await countAll({ folder: 'inbox', pageSize: 10, after: pager.after }), everything.slice(35))
})

test('next() called again before the last one settled: items in order, each once', async () => {
  const everything = await countAll({ folder: 'inbox', pageSize: 10 })
  const pager = bot.conversations({ folder: 'inbox', pageSize: 10 })
  const it = pager[Symbol.asyncIterator]()
  // 25 at once: they cross two page boundaries while queued behind each other.
  const first = await Promise.all(Array.from({ length: 25 }, () => it.next()))
  assert.deepEqual(first.map((r) => r.value.id), everything.slice(0, 25))
  assert.deepEqual(await countAll({ folder: 'inbox', pageSize: 10, after: pager.after }), everything.slice(25))
  const rest = []
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.id)
  assert.deepEqual(rest, everything.slice(25))
  assert.equal(pager.closed, true)
  assert.deepEqual(await it.next(), { value: undefined, done: true })
})

test('a failed page rejects the loop with its typed error and stops the pager', async () => {
  const error = { message: '(#10) injected', type: 'OAuthException', code: 10, fbtrace_id: 'T' }
  emu.injectFault({ match: { pathContains: 'conversations' }, count: 1, action: { type: 'graph_error', status: 403, error } })
  const pager = bot.conversations({ folder: 'inbox', pageSize: 10 })
  const it = pager[Symbol.asyncIterator]()
  await assert.rejects(it.next(), (e) => e.kind === 'permission')
  assert.equal(pager.closed, true)
  assert.deepEqual(await it.next(), { value: undefined, done: true })
})

test('break stops fetching: only the one prefetched page follows', async () => {
  emu.clearRequestLog()
  const pager = bot.conversations({ folder: 'inbox', pageSize: 5 })
  let n = 0
  for await (const c of pager) {
    assert.equal(typeof c.id, 'string')
    if (++n === 7) break
  }
  assert.equal(pager.closed, true)
  await sleep(300)
  // Pages one and two were read; page three was prefetched while page two
  // was read, unless the break closed the pager before it left.
  const after = convRequests().length
  assert.ok(after === 2 || after === 3, `${after} requests after a break at item 7`)
  await sleep(300)
  assert.equal(convRequests().length, after, 'nothing more once closed')
})

test('conversations carry typed camelCase fields and raw', async () => {
  const fields = ['id', 'updated_time', 'snippet', 'message_count', 'unread_count', 'participants', 'can_reply', 'folder', 'link']
  const pager = bot.conversations({ folder: 'spam', pageSize: 3, fields })
  const page = await pager.nextPage()
  pager.close()
  const c = page.items[0]
  assert.ok(c.updatedTime instanceof Date)
  assert.equal(typeof c.messageCount, 'number')
  assert.equal(typeof c.unreadCount, 'number')
  assert.equal(c.folder, 'spam')
  assert.equal(c.canReply, false)
  assert.ok(Array.isArray(c.participants))
  assert.equal(typeof c.participants[0].id, 'string')
  assert.equal(c.raw.id, c.id)
  assert.equal(typeof c.raw.updated_time, 'string')
  const q = emu.requestLog().at(-1).query
  assert.equal(q.fields, fields.join(','))
})

test('text outside ASCII crosses intact: accents, CJK, emoji, quotes, escapes', async () => {
  const text = 'Ça marche — 日本語 👍🏽 "quoted" \\ back\nslash \u2028 \u0000 end'
  const top = (await bot.conversations({ pageSize: 1 }).nextPage()).items[0]
  emu.bumpConversation(top.id, text)
  const pager = bot.conversations({ pageSize: 5, fields: ['id', 'snippet', 'participants'] })
  const page = await pager.nextPage()
  pager.close()
  const c = page.items.find((item) => item.id === top.id)
  assert.equal(c.snippet, text)
  assert.equal(c.raw.snippet, text)
  // Names (participants) go the same way.
  assert.equal(typeof c.participants[0].name, 'string')
})

test('fields not asked for are null, not missing, and the time keeps its instant', async () => {
  const pager = bot.conversations({ pageSize: 2, fields: ['id'] })
  const page = await pager.nextPage()
  pager.close()
  const c = page.items[0]
  assert.equal(c.updatedTime, null)
  assert.equal(c.messageCount, null)
  assert.equal(c.snippet, null)
  assert.deepEqual(c.participants, [])
  assert.deepEqual(Object.keys(c.raw), ['id'])
  const full = await bot.conversations({ pageSize: 1, fields: ['id', 'updated_time'] }).nextPage()
  const item = full.items[0]
  assert.equal(item.updatedTime.getTime(), Date.parse(item.raw.updated_time))
})

test('a page handed over as JSON has the shape of the export\'s conversations, Dates included', async () => {
  // Both cross N-API as JSON text (the export's with its stats, the napi object
  // types in native.d.ts document the shape): the same conversation must come
  // out the same (key order, nulls, Dates).
  const page = await bot.conversations({ folder: 'inbox', pageSize: 5, messages: 2 }).nextPage()
  const exported = await bot.exportConversations({ folders: ['inbox'], messages: 2, pageSize: 5, maxCallsPerSecond: null }).next()
  const mine = page.items[0]
  assert.ok(mine.messages.length > 0 && mine.messages.every((m) => m.createdTime instanceof Date))
  // The export fills in where it walked.
  mine.folder = 'inbox'
  mine.platform = 'messenger'
  mine.raw.folder = 'inbox'
  mine.raw.platform = 'messenger'
  assert.deepEqual(Object.keys(mine), Object.keys(exported))
  assert.deepEqual(mine, exported)
})

test('nextPage returns null after the last page, and keeps returning null', async () => {
  const pager = bot.conversations({ folder: 'spam', pageSize: 100 })
  const page = await pager.nextPage()
  assert.equal(page.hasNext, false)
  assert.equal(await pager.nextPage(), null)
  assert.equal(await pager.nextPage(), null)
})

test('bad paging arguments are refused at once, nothing sent', () => {
  emu.clearRequestLog()
  assert.throws(() => bot.conversations({ folder: 'archive' }), { name: 'TypeError', argument: 'folder' })
  assert.throws(() => bot.conversations({ platform: 'whatsapp' }), { name: 'TypeError', argument: 'platform' })
  assert.throws(() => bot.conversations({ pageSize: 0 }), { name: 'RangeError', argument: 'pageSize' })
  assert.throws(() => bot.conversations({ pageSize: 101 }), { name: 'RangeError', argument: 'pageSize' })
  assert.throws(() => bot.conversations({ pageSize: 1.5 }), { name: 'RangeError', argument: 'pageSize' })
  assert.throws(() => bot.conversations({ fields: ['id', 'a&b'] }), { name: 'TypeError', argument: 'fields' })
  assert.throws(() => bot.conversations({ fields: 'id' }), { name: 'TypeError', argument: 'fields' })
  assert.throws(() => bot.conversations({ userId: '1/2' }), { name: 'TypeError', argument: 'userId' })
  assert.throws(() => bot.conversations({ after: 'a b' }), { name: 'TypeError', argument: 'after' })
  assert.throws(() => bot.conversations({ folder: 'inbox', colour: 'red' }), { name: 'TypeError' })
  assert.equal(emu.requestLog().length, 0)
})
