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
