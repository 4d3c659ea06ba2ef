// Messages and the inbox export from Node (issue 12), against the emulator
// over real HTTP: paging and resuming messages, field expansion, the export's
// walk (union of folders, dedupe, `since`), the checkpoint's refusals,
// onProgress and AbortSignal, and a JSONL export SIGKILLed again and again.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Emulator, Export, Messages } from './helpers.mjs'

const UNPACED = { maxCallsPerSecond: null }
let emu
let bot
const tmp = () => mkdtempSync(join(tmpdir(), 'mh-export-'))
const readLines = (path) => {
  const data = readFileSync(path, 'utf8')
  assert.ok(data === '' || data.endsWith('\n'), 'no partial line')
  return data.split('\n').filter(Boolean).map((l) => JSON.parse(l))
}
const ids = async (iterable) => {
  const out = []
  for await (const x of iterable) out.push(x.id)
  return out
}

before(async () => {
  emu = await Emulator.start({ conversations: 300 })
  bot = emu.client()
})
after(async () => {
  bot.close()
  await emu.stop()
})

test('messages: page to the end, newest first, resume exactly mid-page', async () => {
  const convs = await ids(bot.conversations({ folder: 'inbox', fields: ['id', 'message_count'] }))
  let conv
  for await (const c of bot.conversations({ fields: ['id', 'message_count'] })) if (!conv || c.messageCount > conv.messageCount) conv = c
  assert.ok(convs.length > 0 && conv.messageCount > 7)
  const pager = bot.messages(conv.id, { pageSize: 7 })
  assert.ok(pager instanceof Messages)
  const every = []
  for await (const m of bot.messages(conv.id, { pageSize: 7 })) every.push(m)
  assert.equal(every.length, conv.messageCount)
  // Graph details only the 20 newest messages; older ones are bare ids.
  const detailed = every.slice(0, 20)
  assert.ok(detailed.every((m) => m.createdTime instanceof Date && m.text && m.sender))
  const times = detailed.map((m) => m.createdTime.getTime())
  assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first')
  const first = []
  for await (const m of pager) {
    first.push(m.id)
    if (first.length === 10) break
  }
  const rest = await ids(bot.messages(conv.id, { pageSize: 7, after: pager.after }))
  assert.deepEqual([...first, ...rest], every.map((m) => m.id))
})

test('field expansion: messages: N inlines the N newest; bad syntax refused before sending', async () => {
  const convs = []
  for await (const c of bot.conversations({ messages: 3, pageSize: 25 })) {
    convs.push(c)
    if (convs.length === 10) break
  }
  for (const c of convs) {
    const page = await bot.messages(c.id, { pageSize: 3 }).nextPage()
    assert.deepEqual(c.messages.map((m) => m.id), page.items.slice(0, Math.min(3, c.messageCount)).map((m) => m.id))
  }
  // The refusals run against an emulator of their own: the pagers above leave
  // prefetches in flight that may reach the shared emulator's log at any time.
  const quiet = await Emulator.start({ conversations: 1 })
  const client = quiet.client()
  try {
    assert.throws(() => client.conversations({ fields: ['id', 'messages.limit(2){id'] }), /fields/)
    assert.throws(() => client.conversations({ messages: 21 }), /messages/)
    assert.throws(() => client.messages('../me'), /conversation/i)
    assert.throws(() => client.exportConversations({ folders: ['attic'] }), /folder/)
    assert.throws(() => client.exportConversations({ since: 'yesterday' }), /since/)
    assert.deepEqual(quiet.requestLog(), [], 'nothing sent')
  } finally {
    client.close()
    await quiet.stop()
  }
})

test('the export over all folders is the union of the per-folder pagers', async () => {
  const union = new Map()
  for (const folder of ['inbox', 'other', 'page_done', 'spam']) {
    for await (const c of bot.conversations({ folder, pageSize: 100 })) union.set(c.id, folder)
  }
  const exp = bot.exportConversations({ pageSize: 50, ...UNPACED })
  assert.ok(exp instanceof Export)
  const got = await exp.toArray()
  assert.deepEqual(new Map(got.map((c) => [c.id, c.folder])), union)
  assert.ok(got.every((c) => c.platform === 'messenger'))
  assert.equal(exp.stats.conversations, union.size)
})

test('dedupe: conversations moved to the top mid-walk come once', async () => {
  const opts = { folders: ['inbox'], pageSize: 10, ...UNPACED }
  const every = await ids(bot.exportConversations(opts))
  const exp = bot.exportConversations(opts)
  const got = []
  const bumped = new Set()
  for await (const c of exp) {
    got.push(c.id)
    if (got.length % 10 === 5 && got.length < 60) {
      const ahead = every[got.length + 25]
      emu.bumpConversation(ahead, 'again')
      bumped.add(ahead)
    }
  }
  assert.equal(new Set(got).size, got.length, 'each conversation once')
  assert.ok(exp.stats.duplicatesDropped >= 1, JSON.stringify(exp.stats))
  for (const id of every) assert.ok(got.includes(id) || bumped.has(id), `${id} lost`)
})

test('next() hands a fetched page out one by one: stats exact to each conversation, concurrent calls in order', async () => {
  const opts = { folders: ['inbox'], pageSize: 10, ...UNPACED }
  const every = await ids(bot.exportConversations(opts))
  assert.ok(every.length > 25, `${every.length} in the inbox`)
  const exp = bot.exportConversations(opts)
  const pages = []
  let n = 0
  for await (const c of exp) {
    assert.equal(c.id, every[n++])
    assert.equal(exp.stats.conversations, n)
    pages.push(exp.stats.pages)
  }
  // The pages read so far, counted as their first conversation is handed out.
  assert.deepEqual(pages, every.map((_, i) => Math.floor(i / 10) + 1))
  // Concurrent next() calls share the page being fetched, each conversation once, in order.
  const exp2 = bot.exportConversations(opts)
  const got = await Promise.all(Array.from({ length: 25 }, () => exp2.next()))
  assert.deepEqual(got.map((c) => c.id), every.slice(0, 25))
  assert.ok(got.every((c) => c.folder === 'inbox' && (c.updatedTime === null || c.updatedTime instanceof Date)))
  // Conversations fetched and not handed out yet would be missing from a file: refused.
  await assert.rejects(exp2.writeJsonl(join(tmp(), 'rest.jsonl')), { code: 'ERR_INVALID_STATE', message: /already iterated/ })
  // An aborted signal stops next() even when the page is already here.
  const ac = new AbortController()
  const exp3 = bot.exportConversations({ ...opts, signal: ac.signal })
  assert.equal((await exp3.next()).id, every[0])
  ac.abort()
  await assert.rejects(exp3.next(), { name: 'AbortError' })
})

test('since stops each walk early (fewer requests)', async () => {
  const inbox = []
  for await (const c of bot.conversations({ pageSize: 100 })) inbox.push(c)
  const since = inbox[15].updatedTime
  emu.clearRequestLog()
  const full = await bot.exportConversations({ pageSize: 5, ...UNPACED }).toArray()
  const fullCalls = emu.requestLog().length
  emu.clearRequestLog()
  const recent = await bot.exportConversations({ pageSize: 5, since, ...UNPACED }).toArray()
  const recentCalls = emu.requestLog().length
  assert.ok(recent.length > 0 && recent.every((c) => c.updatedTime >= since))
  assert.deepEqual(new Set(recent.map((c) => c.id)), new Set(full.filter((c) => c.updatedTime >= since).map((c) => c.id)))
  assert.ok(recentCalls * 3 < fullCalls, `${recentCalls} vs ${fullCalls}`)
})

test('writeJsonl: onProgress after pages, and an AbortSignal stops it', async () => {
  const dir = tmp()
  const seen = []
  const stats = await bot
    .exportConversations({ pageSize: 20, messages: 2, ...UNPACED, onProgress: (s) => seen.push(s.conversations) })
    .writeJsonl(join(dir, 'out.jsonl'))
  const rows = readLines(join(dir, 'out.jsonl'))
  assert.equal(rows.length, stats.conversations)
  assert.ok(rows.every((r) => r.folder && r.platform === 'messenger' && r.messages))
  assert.ok(seen.length >= 1 && seen.at(-1) === stats.conversations)
  const ac = new AbortController()
  ac.abort()
  await assert.rejects(
    bot.exportConversations({ signal: ac.signal, ...UNPACED }).writeJsonl(join(dir, 'aborted.jsonl')),
    (e) => e.name === 'AbortError',
  )
})

test('writeJsonl: onProgress is pushed by the core as each page is written, and ends on the final stats', async () => {
  const dir = tmp()
  const seen = []
  // 50 calls/s: pages come quicker than a 100 ms poll could see them.
  const started = Date.now()
  const stats = await bot
    .exportConversations({
      folders: ['inbox'],
      pageSize: 10,
      maxCallsPerSecond: 50,
      onProgress: (s) => seen.push({ ...s, at: Date.now() - started }),
    })
    .writeJsonl(join(dir, 'out.jsonl'))
  const rows = readLines(join(dir, 'out.jsonl'))
  assert.equal(rows.length, stats.conversations)
  const pagesWithRows = Math.ceil(stats.conversations / 10)
  assert.ok(pagesWithRows >= 5, `${stats.conversations} conversations`)
  // One call per page written, in order, each with that page's stats.
  const pages = seen.map((s) => s.pages)
  assert.deepEqual(pages.slice(0, pagesWithRows), Array.from({ length: pagesWithRows }, (_, i) => i + 1), JSON.stringify(seen))
  const plain = seen.map(({ at, ...s }) => s)
  const convs = plain.map((s) => s.conversations)
  assert.deepEqual(convs, [...convs].sort((a, b) => a - b))
  for (let i = 1; i < plain.length; i++) assert.notDeepEqual(plain[i], plain[i - 1], 'no call repeats the one before')
  // The last call is the export's final stats, exactly.
  assert.deepEqual(plain.at(-1), { ...stats })
  // As it happens: the calls are spread over the walk, not bunched at its end.
  assert.ok(seen[0].at < seen.at(-1).at - 100, JSON.stringify(seen.map((s) => s.at)))
})

test('checkpoint misuse: clear errors, nothing overwritten', async () => {
  const dir = tmp()
  const out = join(dir, 'out.jsonl')
  const cp = join(dir, 'cp.json')
  await bot.exportConversations({ checkpoint: cp, ...UNPACED }).writeJsonl(out)
  const written = readFileSync(out)
  const run = (o, path = out) => bot.exportConversations({ checkpoint: cp, ...UNPACED, ...o }).writeJsonl(path)
  await assert.rejects(run({ messages: 3 }), /other arguments/)
  await assert.rejects(run({}, join(dir, 'other.jsonl')), /belongs to the output/)
  assert.ok(!existsSync(join(dir, 'other.jsonl')))
  writeFileSync(out, Buffer.concat([Buffer.from('{"id":"not ours"}\n'), written]))
  await assert.rejects(run({}), /not the file this checkpoint wrote/)
  writeFileSync(out, written)
  writeFileSync(cp, '{ torn')
  await assert.rejects(run({}), /not a readable export checkpoint/)
  assert.deepEqual(readFileSync(out), written)
  unlinkSync(cp)
  await assert.rejects(run({}), /is not empty/)
  assert.deepEqual(readFileSync(out), written)
})

const CHILD = `
import { Client } from ${JSON.stringify(fileURLToPath(new URL('../../bindings-node/index.mjs', import.meta.url)))}
const [out, cp, rate] = process.argv.slice(-3)
const client = new Client({ accessToken: process.env.MH_TOKEN, baseUrl: process.env.MH_URL, pageId: process.env.MH_PAGE })
await client.exportConversations({ messages: 3, pageSize: 4, checkpoint: cp, maxCallsPerSecond: Number(rate) }).writeJsonl(out)
client.close()
`

// What both child-process tests start from: the uninterrupted export's lines
// (the set the interrupted one must end with), the paths, the child's env.
async function childExportSetup() {
  const dir = tmp()
  await bot.exportConversations({ messages: 3, pageSize: 4, ...UNPACED }).writeJsonl(join(dir, 'reference.jsonl'))
  const expected = new Set(readLines(join(dir, 'reference.jsonl')).map((r) => JSON.stringify(r)))
  assert.ok(expected.size > 200)
  const env = { ...process.env, MH_TOKEN: emu.primary.token, MH_URL: emu.url, MH_PAGE: emu.pageId }
  return { dir, expected, out: join(dir, 'out.jsonl'), cp: join(dir, 'cp.json'), env }
}

test('SIGKILLed at 20+ random points and restarted: the JSONL ends complete, no line twice, none partial', async () => {
  const { expected, out, cp, env } = await childExportSetup()
  const sizes = []
  let kills = 0
  let seed = 7
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const deadline = Date.now() + 90_000
  for (;;) {
    assert.ok(Date.now() < deadline, 'no end')
    const last = kills >= 22
    // Killed runs are paced (slow enough to be caught mid-walk); the last one is not.
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, out, cp, last ? '1000' : '8'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
    if (!last) {
      const timer = new Promise((resolve) => setTimeout(() => resolve(null), 150 + random() * 500))
      const early = await Promise.race([exited, timer])
      if (early === null) {
        child.kill('SIGKILL')
        await exited
        kills += 1
        sizes.push(existsSync(out) ? statSync(out).size : 0)
        continue
      }
      assert.equal(early.code, 0, err)
      break
    }
    const { code } = await exited
    assert.equal(code, 0, err)
    break
  }
  assert.ok(kills >= 20, `${kills} kills`)
  const final = statSync(out).size
  assert.ok(sizes.filter((s) => s > 0 && s < final).length >= 10, `killed mid-walk: ${sizes}`)
  const got = readLines(out).map((r) => JSON.stringify(r))
  assert.equal(new Set(got).size, got.length, 'no line twice')
  assert.deepEqual(new Set(got), expected)
})

const CHILD_RATE_LIMITED = `
import { Client } from ${JSON.stringify(fileURLToPath(new URL('../../bindings-node/index.mjs', import.meta.url)))}
const [out, cp, rate] = process.argv.slice(-3)
const client = new Client({ accessToken: process.env.MH_TOKEN, baseUrl: process.env.MH_URL, pageId: process.env.MH_PAGE,
  retryBaseDelayMs: 1 })
try {
  await client.exportConversations({ messages: 3, pageSize: 4, checkpoint: cp, maxCallsPerSecond: Number(rate) }).writeJsonl(out)
} catch (e) {
  process.stderr.write(e.name + ' ' + e.kind + ' ' + e.code + '\\n')
  process.exitCode = 3
}
client.close()
`

test('a rate-limit error (613) mid-walk stops the child\'s JSONL export; the restart completes it exactly', async () => {
  const { expected, out, cp, env } = await childExportSetup()
  const start = (rate) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_RATE_LIMITED, out, cp, rate], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, err })))
  }
  const error = { message: '(#613) Calls to this api have exceeded the rate limit.', type: 'OAuthException', code: 613 }
  try {
    const first = start('8')
    let ended = null
    first.then((r) => (ended = r))
    // Some pages in (a line on disk), then Graph answers 613 to every page
    // call for longer than the client's retries last.
    const deadline = Date.now() + 30_000
    while (!(existsSync(out) && statSync(out).size > 0)) {
      assert.ok(Date.now() < deadline && ended === null, `no line written: ${JSON.stringify(ended)}`)
      await new Promise((r) => setTimeout(r, 10))
    }
    emu.injectFault({ match: { path_contains: 'conversations' }, count: 1000, action: { type: 'graph_error', status: 400, error } })
    const stopped = await first
    assert.equal(stopped.code, 3, stopped.err)
    assert.match(stopped.err, /^RateLimitError rate_limit 613$/m)
    assert.ok(!stopped.err.includes(emu.primary.token))
    const partial = readLines(out)
    assert.ok(partial.length > 0 && partial.length < expected.size, `${partial.length} of ${expected.size}`)
  } finally {
    emu.clearFaults()
  }
  const again = await start('1000')
  assert.equal(again.code, 0, again.err)
  const got = readLines(out).map((r) => JSON.stringify(r))
  assert.equal(new Set(got).size, got.length, 'no line twice')
  assert.deepEqual(new Set(got), expected)
})

test('the default pacing (2 calls/s) never trips the emulator limiter over a 300-conversation export', async () => {
  emu.setConversationsPacing(2)
  emu.clearRequestLog()
  try {
    const n = (await bot.exportConversations({ pageSize: 40 }).toArray()).length
    const log = emu.requestLog()
    assert.ok(n > 200 && log.length >= 8, `${n} conversations, ${log.length} calls`)
    assert.deepEqual(log.filter((r) => r.status !== 200), [], 'no call refused by the limiter')
  } finally {
    emu.setConversationsPacing(0)
  }
})
