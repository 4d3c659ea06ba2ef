// A webhook server for the bot: verifies each delivery's signature, parses
// every event of the batch, and reacts. When another app asks for a thread,
// the bot hands it over; when the Page Inbox gives a thread back, the bot
// says so; a user writing while someone else owns the thread arrives as a
// standby copy.
//
// With APP_SECRET, VERIFY_TOKEN and PAGE_ACCESS_TOKEN set it serves on PORT
// (default 3000) for the real platform. Without them it runs one round trip
// against the embedded emulator and exits.
import { createServer } from 'node:http'
import { once } from 'node:events'
import { Client, createWebhookHandler, PAGE_INBOX_APP_ID } from 'messenger-handover'
import { Emulator } from 'messenger-handover/testing'

const real = Boolean(process.env.APP_SECRET && process.env.PAGE_ACCESS_TOKEN)
const emu = real ? null : await Emulator.start({ conversations: 10 })
const appSecret = real ? process.env.APP_SECRET : emu.primary.secret
const bot = real ? new Client({ accessToken: process.env.PAGE_ACCESS_TOKEN, appSecret }) : emu.client('primary')
const botAppId = real ? process.env.APP_ID : emu.primary.appId
const label = (id) => (id === PAGE_INBOX_APP_ID ? 'the Page Inbox' : id === botAppId ? 'the bot' : `app ${id}`)

const seen = []
let settle = () => {}
async function onEvent(event) {
  seen.push(event.type)
  switch (event.type) {
    case 'request_thread_control':
      console.log(`  <- ${label(event.requestedOwnerAppId)} asks for thread ${event.psid} (${event.metadata ?? 'no note'})`)
      await bot.passThreadControl(event.psid, event.requestedOwnerAppId, { metadata: 'all yours' })
      console.log(`  -> passed it to ${label(event.requestedOwnerAppId)}`)
      break
    case 'pass_thread_control':
      console.log(`  <- thread ${event.psid} passed to ${label(event.newOwnerAppId)} by ${label(event.previousOwnerAppId)}`)
      break
    case 'take_thread_control':
      console.log(`  <- ${label(event.previousOwnerAppId)} lost thread ${event.psid} to a take`)
      break
    case 'standby':
      console.log(`  <- standby: the user wrote "${event.event?.text ?? '...'}" while another app owns ${event.psid}`)
      break
    default:
      console.log(`  <- ${event.type} on ${event.psid ?? 'the Page'}`)
  }
  settle()
}

const handler = createWebhookHandler({
  appSecret,
  verifyToken: process.env.VERIFY_TOKEN ?? 'demo-verify-token',
  onEvent,
  onError: (err) => console.error('webhook failed:', err),
})
const server = createServer(handler)
server.listen(real ? Number(process.env.PORT ?? 3000) : 0, real ? undefined : '127.0.0.1')
await once(server, 'listening')
const url = `http://127.0.0.1:${server.address().port}/webhook`

if (real) {
  console.log(`listening on ${url} (subscribe it to messaging_handovers and standby)`)
} else {
  // Resolves once an event of this type (beyond those already awaited) arrived.
  const awaited = {}
  const until = (type) =>
    new Promise((resolve, reject) => {
      const want = (awaited[type] = (awaited[type] ?? 0) + 1)
      const timer = setTimeout(() => reject(new Error(`no ${type} webhook within 5 s`)), 5000)
      settle = () => seen.filter((t) => t === type).length >= want && (clearTimeout(timer), resolve())
      settle()
    })
  console.log(`webhook server at ${url}; emulated Graph API at ${emu.url}`)
  emu.setWebhook('primary', url)
  const psid = '4519738205716384'
  const inbox = emu.client('pageInbox')
  console.log(`\n> A human in the Page Inbox asks for thread ${psid}`)
  await inbox.requestThreadControl(psid, { metadata: 'customer asked for a human' })
  await until('request_thread_control')
  await until('pass_thread_control')
  console.log(`  owner now: ${label((await bot.threadOwner(psid)).appId)}`)
  console.log('\n> The user writes while the human has the thread')
  await emu.simulateMessage(psid, 'is anyone there?')
  await until('standby')
  console.log('\n> The human is done and releases the thread')
  await inbox.releaseThreadControl(psid, { metadata: 'resolved' })
  await until('pass_thread_control')
  console.log(`  owner now: ${(await bot.threadOwner(psid)).appId === emu.primary.appId ? 'the bot' : 'someone else'}`)
  inbox.close()
  bot.close()
  server.close()
  await emu.stop()
  console.log('\nwebhook round trip: done')
}
