// Soak run of the Node Client against the in-process emulator: N calls
// (threadOwner GET, pass/take POST) with a fixed number in flight, then a
// paging run over every conversation of the Page. Prints figures; it is not a
// timed test. Exit status 1 when any call failed.
//
//   node soak/soak.mjs --calls 200000 --in-flight 256 --conversations 100000
//
// Loads `messenger-handover` by name when it is installed, else the package in
// this tree (bindings-node/); NAPI_RS_NATIVE_LIBRARY_PATH picks the addon.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { parseArgs } from 'node:util'

async function load(name, fallback) {
  try {
    return await import(name)
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e
    return import(new URL(fallback, import.meta.url))
  }
}
const { HandoverError } = await load('messenger-handover', '../bindings-node/index.mjs')
const { Emulator } = await load('messenger-handover/testing', '../bindings-node/testing.mjs')

const { values: opts } = parseArgs({
  options: {
    calls: { type: 'string', default: '200000' },
    'in-flight': { type: 'string', default: '256' },
    conversations: { type: 'string', default: '100000' },
    'page-size': { type: 'string', default: '100' },
  },
})
const calls = Number(opts.calls)
const inFlight = Number(opts['in-flight'])
const conversations = Number(opts.conversations)
const pageSize = Number(opts['page-size'])

// Run with --expose-gc (as `make soak` does) so that each RSS reading follows a
// full collection: garbage V8 has not collected yet is not a leak.
const rssKib = () => {
  globalThis.gc?.()
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
  return line ? Number(line.split(/\s+/)[1]) : 0
}
const openSockets = () =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')
    } catch {
      return false
    }
  }).length
/** Established TCP connections (client side, server side) of `port`. */
function connections(port) {
  let client = 0
  let server = 0
  for (const file of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let lines
    try {
      lines = readFileSync(file, 'utf8').trim().split('\n').slice(1)
    } catch {
      continue
    }
    for (const line of lines) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 4 || cols[3] !== '01') continue
      const portOf = (a) => parseInt(a.split(':').pop(), 16)
      if (portOf(cols[2]) === port) client++
      else if (portOf(cols[1]) === port) server++
    }
  }
  return [client, server]
}
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`
const change = (a, b) => (a ? ((b - a) * 100) / a : 0)
const pct = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`

const tally = { done: 0, errors: 0, first: [] }

/** Each worker owns one thread (PSID) and cycles GET, pass to the Page Inbox,
 * GET, take: every call is valid whatever the interleaving. */
async function runCalls(client, n, firstPsid) {
  let remaining = n
  const worker = async (w) => {
    const psid = String(firstPsid + w)
    let step = 0
    while (remaining > 0) {
      remaining--
      try {
        const s = step % 4
        if (s === 0 || s === 2) await client.threadOwner(psid)
        else if (s === 1) await client.passThreadControlToPageInbox(psid, { metadata: 'soak' })
        else await client.takeThreadControl(psid)
        step++
      } catch (e) {
        if (!(e instanceof HandoverError)) throw e
        tally.errors++
        if (tally.first.length < 5) tally.first.push(`${e.kind} ${e.message}`)
        step = 0
        await client.takeThreadControl(psid).catch(() => {})
      }
      tally.done++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)))
}

const emu = await Emulator.start({ conversations, logRequests: false })
const client = emu.client()
console.log(`soak (node ${process.version}): ${calls} calls, ${inFlight} in flight, against ${emu.url}`)
console.log(`sockets at start: ${openSockets()}`)

const warmup = Math.max(Math.floor(calls / 10), inFlight)
const started = performance.now()
await runCalls(client, warmup, 10_000_000)
const rssWarm = rssKib()
let peak = rssWarm
const sampler = setInterval(() => {
  peak = Math.max(peak, rssKib())
}, 1000)
await runCalls(client, calls - warmup, 20_000_000)
const elapsed = (performance.now() - started) / 1000
clearInterval(sampler)
const rssEnd = rssKib()
const socketsAfter = openSockets()
const conns = connections(emu.port)

console.log(`calls: ${tally.done}`)
console.log(`errors: ${tally.errors}`)
for (const e of tally.first) console.log(`  error: ${e}`)
console.log(`elapsed: ${elapsed.toFixed(2)} s`)
console.log(`calls/s: ${Math.round(tally.done / elapsed)}`)
console.log(
  `open sockets after the run: ${socketsAfter} (client pool + emulator side, which holds 2 fds per connection; at most 3 x ${inFlight} + a few)`,
)
console.log(`  established connections (client side, server side): (${conns.join(', ')})`)
console.log(`rss after warm-up (${warmup} calls): ${mib(rssWarm)}`)
console.log(`rss at the end: ${mib(rssEnd)} (${pct(change(rssWarm, rssEnd))})`)
console.log(`rss peak after warm-up: ${mib(Math.max(peak, rssEnd))}`)

// Paging: every conversation (each folder on each platform), page by page.
const rssBefore = rssKib()
const t0 = performance.now()
let items = 0
let pages = 0
let rssPagingWarm = 0
let rssPagingPeak = 0
let pagingError = null
try {
  for (const folder of ['inbox', 'other', 'page_done', 'spam']) {
    for (const platform of ['messenger', 'instagram']) {
      for await (const page of client.conversations({ folder, platform, pageSize }).pages()) {
        items += page.items.length
        pages++
        if (pages === 10) rssPagingWarm = rssKib()
        if (pages % 50 === 0) rssPagingPeak = Math.max(rssPagingPeak, rssKib())
      }
    }
  }
} catch (e) {
  if (!(e instanceof HandoverError)) throw e
  pagingError = e
}
const rssPagingEnd = rssKib()
rssPagingWarm ||= rssBefore
console.log(`paging: ${items} conversations in ${pages} pages, ${((performance.now() - t0) / 1000).toFixed(2)} s`)
if (pagingError) console.log(`paging error: ${pagingError.kind} ${pagingError.message}`)
console.log(
  `paging rss: before ${mib(rssBefore)}, after 10 pages ${mib(rssPagingWarm)}, end ${mib(rssPagingEnd)} (${pct(change(rssPagingWarm, rssPagingEnd))} from 10 pages), peak ${mib(Math.max(rssPagingPeak, rssPagingEnd))}`,
)

client.close()
await new Promise((r) => setTimeout(r, 500))
console.log(`open sockets after the client is closed: ${openSockets()}`)
await emu.stop()
console.log(`open sockets after the emulator shut down: ${openSockets()}`)

const pagingOk = !pagingError && items === conversations
const flat = Math.abs(change(rssWarm, rssEnd)) <= 10
console.log(
  `verdict: errors ${tally.errors === 0 ? 'none' : 'SOME'} / rss flat within 10%: ${flat ? 'yes' : 'NO'} / paging complete: ${pagingOk ? 'yes' : 'NO'}`,
)
process.exitCode = tally.errors === 0 && pagingOk ? 0 : 1
