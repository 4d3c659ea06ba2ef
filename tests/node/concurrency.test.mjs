// Many calls at once through one client: 500 in one Promise.all.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Emulator, PAGE_INBOX_APP_ID } from './helpers.mjs'

test('500 concurrent calls with Promise.all', async () => {
  const emu = await Emulator.start({ conversations: 10 })
  const bot = emu.client()
  try {
    const psids = Array.from({ length: 250 }, (_, i) => String(5_000_000_000 + i))
    const owners = await Promise.all(psids.map((p) => bot.threadOwner(p)))
    assert.equal(owners.length, 250)
    for (const o of owners) assert.equal(o.appId, emu.primary.appId)
    await Promise.all(psids.map((p) => bot.passThreadControlToPageInbox(p, { metadata: `m${p}` })))
    const after = await Promise.all(psids.map((p) => bot.threadOwner(p)))
    for (const o of after) assert.equal(o.appId, PAGE_INBOX_APP_ID)
    const calls = emu.requestLog().length
    assert.equal(calls, 750)
  } finally {
    bot.close()
    await emu.stop()
  }
})

test('500 concurrent calls on 500 different threads mixing GET and POST', async () => {
  const emu = await Emulator.start({ conversations: 10 })
  const bot = emu.client()
  try {
    const ops = Array.from({ length: 500 }, (_, i) => {
      const psid = String(6_000_000_000 + i)
      return i % 2 === 0 ? bot.threadOwner(psid) : bot.takeThreadControl(psid)
    })
    const results = await Promise.allSettled(ops)
    const failed = results.filter((r) => r.status === 'rejected')
    assert.equal(failed.length, 0, String(failed[0]?.reason))
  } finally {
    await emu.stop()
  }
})
