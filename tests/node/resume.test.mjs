// Resuming is exact to the item (issue 11, item 1): after N items handed
// out, resuming from `pager.after` yields item N+1 next, even mid-page.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Emulator } from './helpers.mjs'

let emu
let bot
let all
const ids = async (options) => {
  const out = []
  for await (const c of bot.conversations(options)) out.push(c.id)
  return out
}

before(async () => {
  emu = await Emulator.start({ conversations: 600 })
  bot = emu.client()
  all = await ids({ pageSize: 100 })
})
after(async () => {
  bot.close()
  await emu.stop()
})

for (const stop of [1, 99, 100, 101, 150, 250]) {
  test(`for await: break after ${stop} items, resume, nothing lost or doubled`, async () => {
    assert.ok(all.length > 250, `only ${all.length}`)
    const pager = bot.conversations({ pageSize: 100 })
    const first = []
    for await (const c of pager) {
      first.push(c.id)
      if (first.length === stop) break
    }
    const rest = await ids({ pageSize: 100, after: pager.after })
    assert.deepEqual([...first, ...rest], all)
  })
}

test('pages(): break after one page, resume from after', async () => {
  const pager = bot.conversations({ pageSize: 100 })
  const first = []
  for await (const page of pager.pages()) {
    first.push(...page.items.map((c) => c.id))
    break
  }
  const rest = await ids({ pageSize: 100, after: pager.after })
  assert.deepEqual([...first, ...rest], all)
})

test('nextPage() then for await: the point moves item by item again', async () => {
  const pager = bot.conversations({ pageSize: 100 })
  const first = (await pager.nextPage()).items.map((c) => c.id)
  for await (const c of pager) {
    first.push(c.id)
    if (first.length === 150) break
  }
  const rest = await ids({ pageSize: 100, after: pager.after })
  assert.deepEqual([...first, ...rest], all)
})

// Issue 11, item 7: runaway servers stop the pager with a `protocol` error.
function serve(bodies) {
  for (const body of bodies) {
    emu.injectFault({
      match: { pathContains: '/conversations' },
      action: { type: 'status', status: 200, body: JSON.stringify(body) },
    })
  }
}

test('nextPage() while a for-await loop holds the rest of a page: no item twice, after right behind the last one', async () => {
  const all = await ids({ pageSize: 10 })
  const pager = bot.conversations({ pageSize: 10 })
  const it = pager[Symbol.asyncIterator]()
  const handed = []
  for (let k = 0; k < 3; k++) handed.push((await it.next()).value.id)
  handed.push(...(await pager.nextPage()).items.map((c) => c.id))
  // The loop does not count the rest of its page against the page nextPage() handed out.
  for (let k = 0; k < 2; k++) handed.push((await it.next()).value.id)
  assert.deepEqual(handed, [...all.slice(0, 3), ...all.slice(10, 22)])
  const rest = await ids({ pageSize: 10, after: pager.after })
  assert.equal(rest[0], all[22])
})

test('a repeated cursor stops with a protocol error', async () => {
  emu.clearFaults()
  emu.clearRequestLog()
  serve(Array(50).fill({ data: [{ id: 't_1' }], paging: { cursors: { after: 'SAME' }, next: 'https://x/next' } }))
  await assert.rejects(ids({}), (e) => e.kind === 'protocol')
  const calls = emu.requestLog().filter((r) => r.path.endsWith('/conversations')).length
  assert.ok(calls <= 3, `${calls} requests`)
  emu.clearFaults()
})

test('endless empty pages stop with a protocol error', async () => {
  emu.clearFaults()
  emu.clearRequestLog()
  serve(Array.from({ length: 50 }, (_, i) => ({ data: [], paging: { cursors: { after: `C${i}` }, next: 'https://x/next' } })))
  await assert.rejects(ids({}), (e) => e.kind === 'protocol')
  const calls = emu.requestLog().filter((r) => r.path.endsWith('/conversations')).length
  assert.ok(calls <= 12, `${calls} requests`)
  emu.clearFaults()
})
