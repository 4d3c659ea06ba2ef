// messenger-handover quickstart (Node): who owns a thread, hand it to the
// Page Inbox, take it back, request and release it, list the inbox, and
// catch a Graph error. Runs against the embedded emulator unless
// PAGE_ACCESS_TOKEN is set (then PAGE_ID and PSID name a real Page and user).
import { Client, GraphApiError, PAGE_INBOX_APP_ID } from 'messenger-handover'
import { Emulator } from 'messenger-handover/testing'

const real = Boolean(process.env.PAGE_ACCESS_TOKEN)
const emu = real ? null : await Emulator.start({ conversations: 120 })
const bot = real
  ? new Client({ accessToken: process.env.PAGE_ACCESS_TOKEN, pageId: process.env.PAGE_ID ?? 'me' })
  : emu.client('primary')
const psid = process.env.PSID ?? '4519738205716384'

const names = new Map([[PAGE_INBOX_APP_ID, 'Page Inbox']])
if (emu) {
  names.set(emu.primary.appId, 'our bot')
  names.set(emu.secondary.appId, 'secondary app')
}
const who = (owner) => (owner ? `${names.get(owner.appId) ?? 'app'} (${owner.appId})` : 'nobody (idle thread)')
const step = (text) => console.log(`\n> ${text}`)

console.log(real ? `Graph API, page ${bot.pageId}` : `Emulated Graph API at ${emu.url}, page ${emu.pageId}`)

step(`Who owns the thread with ${psid}?`)
console.log(`  ${who(await bot.threadOwner(psid))}`)

step('Pass it to the Page Inbox: a human takes over')
await bot.passThreadControlToPageInbox(psid, { metadata: 'customer asked for a human' })
console.log(`  owner now: ${who(await bot.threadOwner(psid))}`)

step('Take it back')
await bot.takeThreadControl(psid, { metadata: 'the bot resumes' })
console.log(`  owner now: ${who(await bot.threadOwner(psid))}`)

step('Hand it over again, then request it back; the Page Inbox releases it')
await bot.passThreadControlToPageInbox(psid)
await bot.requestThreadControl(psid, { metadata: 'may the bot have it back?' })
console.log(`  requested; owner still: ${who(await bot.threadOwner(psid))}`)
if (emu) {
  const inbox = emu.client('pageInbox')
  await inbox.releaseThreadControl(psid, { metadata: 'done here' })
  inbox.close()
} else {
  await bot.takeThreadControl(psid)
}
console.log(`  released; owner now: ${who(await bot.threadOwner(psid))}`)

step('First page of the inbox')
const inbox = bot.conversations({
  folder: 'inbox',
  pageSize: 5,
  fields: ['id', 'updated_time', 'message_count', 'unread_count', 'snippet'],
})
const page = await inbox.nextPage()
inbox.close()
const rows = page.items.map((c) => [
  c.id,
  c.updatedTime ? c.updatedTime.toISOString().slice(0, 16).replace('T', ' ') : '',
  String(c.messageCount ?? ''),
  String(c.unreadCount ?? ''),
  (c.snippet ?? '').slice(0, 34),
])
const head = ['conversation', 'updated (UTC)', 'msgs', 'unread', 'snippet']
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (r) => ('  ' + r.map((cell, i) => cell.padEnd(widths[i])).join('  ')).trimEnd()
console.log(line(head))
console.log(line(widths.map((w) => '-'.repeat(w))))
rows.forEach((r) => console.log(line(r)))
console.log(`  ${page.hasNext ? 'more pages follow; resume after cursor ' + inbox.after : 'that was all'}`)

step('A Graph error, caught and explained: pass the thread to an app with no role on the Page')
try {
  await bot.passThreadControl(psid, '1')
} catch (err) {
  if (!(err instanceof GraphApiError)) throw err
  console.log(`  ${err.name} (kind "${err.kind}"): code ${err.code}, subcode ${err.subcode}, HTTP ${err.httpStatus}`)
  console.log(`  the Graph API said: ${err.graphMessage}`)
  console.log(`  fbtrace_id ${err.fbtraceId}: quote it when asking Meta about this call`)
}

bot.close()
await emu?.stop()
console.log('\ndone')
