// Runs every shared vector of tests/conformance/*.json through the Node
// client against the scripted server, exactly as tests/conformance/README.md
// says: the request on the wire, then the result or error.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client, ScriptedServer, assertHidden } from './helpers.mjs'

const TOKEN = 'conformance-token-7f3a'
const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'conformance')
// invalid_input*.json has its own shape and runner (at the end).
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && !f.startsWith('invalid_input'))
  .sort()

const FIELD = {
  updated_time: 'updatedTime',
  message_count: 'messageCount',
  unread_count: 'unreadCount',
  can_reply: 'canReply',
  is_subscribed: 'isSubscribed',
  scoped_thread_key: 'scopedThreadKey',
}
const ARG = { target_app_id: 'targetAppId', duration: 'durationSeconds', page_size: 'pageSize', user_id: 'userId' }
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

function queued(v) {
  const list = v.responses ?? [v.response]
  return list.map((r) => {
    const headers = { ...(r.headers ?? {}) }
    let body
    if ('body_text' in r) body = r.body_text
    else {
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
      body = JSON.stringify(r.body)
    }
    return { status: r.status, headers, body }
  })
}

function makeClient(v, url) {
  const o = v.client ?? {}
  const opts = { accessToken: TOKEN, baseUrl: url, maxRetries: o.max_retries ?? 0 }
  if (o.page_id) opts.pageId = o.page_id
  if (o.app_secret) opts.appSecret = o.app_secret
  if (o.api_version) opts.apiVersion = o.api_version
  return new Client(opts)
}

function iso(d) {
  return d === null || d === undefined ? null : new Date(d).getTime()
}

/** Calls the op; returns { ok, value } in the README's canonical shape or { err }. */
async function call(client, op, a, server) {
  const md = a.metadata === undefined || a.metadata === null ? {} : { metadata: a.metadata }
  try {
    switch (op) {
      case 'thread_owner': {
        const o = await client.threadOwner(a.psid)
        return { ok: o === null ? null : { app_id: o.appId, expiration: o.expiration } }
      }
      case 'pass_thread_control':
        return { ok: (await client.passThreadControl(a.psid, a.target_app_id, md)) ?? null }
      case 'pass_thread_control_to_page_inbox':
        return { ok: (await client.passThreadControlToPageInbox(a.psid, md)) ?? null }
      case 'take_thread_control':
        return { ok: (await client.takeThreadControl(a.psid, md)) ?? null }
      case 'request_thread_control':
        return { ok: (await client.requestThreadControl(a.psid, md)) ?? null }
      case 'release_thread_control':
        return { ok: (await client.releaseThreadControl(a.psid, md)) ?? null }
      case 'extend_thread_control':
        return { ok: (await client.extendThreadControl(a.psid, a.duration)) ?? null }
      case 'secondary_receivers':
        return { ok: await client.secondaryReceivers() }
      case 'conversations_page': {
        const q = {}
        for (const [k, val] of Object.entries(a)) if (val !== null) q[camel(k)] = val
        const pager = client.conversations(q)
        const page = await pager.nextPage()
        assert.ok(page, 'the pager returned no first page')
        if (page.hasNext) {
          // Up to 10 s (a loaded machine), the pager still open: closing it cancels the prefetch.
          for (let i = 0; i < 500 && server.requests().length < 2; i++) await sleep(20)
        }
        pager.close()
        return { ok: { items: page.items, after: page.after, has_next: page.hasNext } }
      }
      default:
        throw new Error(`unknown op ${op}`)
    }
  } catch (err) {
    return { err }
  }
}

function checkRequest(what, want, got) {
  assert.equal(got.method, want.method, `${what}: method`)
  assert.equal(got.path, want.path, `${what}: path`)
  const keys = got.query.map(([k]) => k)
  assert.equal(new Set(keys).size, keys.length, `${what}: a query key repeats: ${keys}`)
  const gotQuery = Object.fromEntries(got.query)
  const wantQuery = Object.fromEntries(Object.entries(want.query ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
  assert.deepEqual(gotQuery, wantQuery, `${what}: query`)
  if (want.body === null || want.body === undefined) assert.equal(got.body, '', `${what}: no body expected`)
  else assert.deepEqual(JSON.parse(got.body), want.body, `${what}: body`)
  for (const [name, val] of Object.entries(want.headers ?? {})) {
    assert.equal(got.headers[name.toLowerCase()], val, `${what}: header ${name}`)
  }
}

function checkRequests(v, op, outcome, requests) {
  for (const r of requests) {
    assert.ok(!r.query.some(([k]) => k === 'access_token'), 'access_token in a query')
    assert.ok(!r.path.includes(TOKEN) && !r.query.some(([k, val]) => k.includes(TOKEN) || val.includes(TOKEN)), 'token in a URL')
  }
  if (v.request === null) {
    assert.equal(requests.length, 0, 'bad input must be refused before any request')
    return
  }
  const count = v.request_count ?? 1
  // A page announcing a next one starts its prefetch (DESIGN: prefetch one)
  // before the caller asks for page two: exactly one more request.
  const prefetched = op === 'conversations_page' && outcome.ok?.has_next === true
  assert.equal(requests.length, prefetched ? count + 1 : count, `requests: ${JSON.stringify(requests.map((r) => r.query))}`)
  for (let i = 0; i < count; i++) checkRequest(`request ${i}`, v.request, requests[i])
  if (prefetched) {
    const next = { ...v.request, query: { ...(v.request.query ?? {}), after: outcome.ok.after } }
    checkRequest('the prefetch of the next page', next, requests[count])
  }
}

function checkPeople(what, want, got) {
  assert.equal(got.length, want.length, `${what}: count`)
  want.forEach((p, j) => {
    for (const [k, val] of Object.entries(p)) assert.deepEqual(got[j][k], val, `${what}[${j}].${k}`)
  })
}

function checkResult(op, want, got) {
  if (op === 'thread_owner') {
    if (want === null) return assert.equal(got, null)
    assert.ok(got, `expected an owner, got ${got}`)
    assert.equal(got.app_id, want.app_id)
    assert.equal(typeof got.app_id, 'string')
    assert.equal(iso(got.expiration), iso(want.expiration), 'expiration')
    if (got.expiration !== null) assert.ok(got.expiration instanceof Date)
    return
  }
  if (op !== 'conversations_page') return assert.deepEqual(got, want)
  if ('after' in want) assert.equal(got.after, want.after, 'after')
  if ('has_next' in want) assert.equal(got.has_next, want.has_next, 'has_next')
  assert.equal(got.items.length, want.items.length, 'item count')
  want.items.forEach((wi, i) => {
    const gi = got.items[i]
    for (const [k, wv] of Object.entries(wi)) {
      const gv = gi[FIELD[k] ?? k]
      if (k === 'raw') {
        for (const [rk, rv] of Object.entries(wv)) assert.deepEqual(gi.raw[rk], rv, `item ${i}: raw.${rk}`)
      } else if (k === 'updated_time') {
        assert.equal(iso(gv), iso(wv), `item ${i}: updated_time`)
      } else if (k === 'participants' || k === 'senders') {
        checkPeople(`item ${i}: ${k}`, wv, gv)
      } else {
        assert.deepEqual(gv, wv, `item ${i}: ${k}`)
      }
    }
  })
}

function checkError(want, err) {
  assertHidden(TOKEN, err)
  if (want.kind === 'invalid_input') {
    assert.ok(err instanceof TypeError || err instanceof RangeError, `expected TypeError/RangeError, got ${err}`)
  } else {
    assert.equal(err.kind, want.kind, `kind (${err})`)
  }
  for (const [field, wv] of Object.entries(want)) {
    switch (field) {
      case 'kind':
        break
      case 'message_contains':
        assert.ok(err.message.includes(wv), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(wv)}`)
        break
      case 'argument':
        assert.equal(err.argument, ARG[wv] ?? camel(wv), 'argument')
        break
      case 'error_type':
        assert.equal(err.type, wv, 'type')
        break
      case 'retry_after':
        if (wv === null) assert.equal(err.retryAfter ?? null, null)
        else assert.ok(Math.abs(err.retryAfter - wv) < 1e-6, `retryAfter ${err.retryAfter} instead of ${wv}`)
        break
      default:
        assert.deepEqual(err[camel(field)] ?? null, wv, field)
    }
  }
}

test('there are conformance vectors', () => {
  assert.ok(files.length >= 90, `only ${files.length} vectors in ${DIR}`)
})

for (const file of files) {
  test(`conformance: ${file.replace(/\.json$/, '')}`, { timeout: 30_000 }, async () => {
    const v = JSON.parse(readFileSync(join(DIR, file), 'utf8'))
    const op = v.call.op
    const server = await ScriptedServer.start()
    try {
      for (const r of queued(v)) server.pushResponse(r)
      const client = makeClient(v, server.url)
      const outcome = await call(client, op, v.call.args ?? {}, server)
      client.close()
      const requests = server.requests()
      checkRequests(v, op, outcome, requests)
      if ('result' in v.expect) {
        assert.ok(!outcome.err, `expected a result, got ${outcome.err}`)
        checkResult(op, v.expect.result, outcome.ok)
      } else {
        assert.ok(outcome.err, `expected an error, got ${JSON.stringify(outcome.ok)}`)
        checkError(v.expect.error, outcome.err)
      }
    } finally {
      await server.stop()
    }
  })
}

// ------------------------------------------------ tests/conformance/invalid_input.json

const INPUT = JSON.parse(readFileSync(join(DIR, 'invalid_input.json'), 'utf8')).vectors
// Node's option names: camelCase, durations with their unit.
const UNIT = { timeout: 'Ms', max_retry_wait: 'Ms', retry_base_delay: 'Ms', duration: 'Seconds' }
const jsName = (a) => camel(a) + (UNIT[a] ?? '')

function inputValue(v) {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'repeat' in v) return v.repeat.repeat(v.times)
  if (Array.isArray(v)) return v.map(inputValue)
  return v
}

async function refuse(vector, value) {
  const name = jsName(vector.argument)
  if (vector.call === 'client') {
    const opts = { accessToken: TOKEN, baseUrl: 'http://127.0.0.1:9' }
    // Client durations are milliseconds in Node, seconds in the vectors.
    opts[name] = UNIT[vector.argument] === 'Ms' && typeof value === 'number' ? value * 1000 : value
    new Client(opts).close()
    return
  }
  const client = new Client({ accessToken: TOKEN, baseUrl: 'http://127.0.0.1:9', maxRetries: 0 })
  try {
    const psid = vector.argument === 'psid' ? value : '1234567890'
    const md = vector.argument === 'metadata' ? { metadata: value } : undefined
    switch (vector.call) {
      case 'thread_owner':
        return await client.threadOwner(psid)
      case 'take_thread_control':
        return await client.takeThreadControl(psid, md)
      case 'pass_thread_control':
        return await client.passThreadControl(psid, vector.argument === 'target_app_id' ? value : '263902037430900', md)
      case 'pass_thread_control_to_page_inbox':
        return await client.passThreadControlToPageInbox(psid, md)
      case 'extend_thread_control':
        return await client.extendThreadControl(psid, vector.argument === 'duration' ? value : 60)
      case 'conversations':
        return client.conversations({ [name]: value })
      default:
        throw new Error(`unknown call ${vector.call}`)
    }
  } finally {
    client.close()
  }
}

test('invalid-input vectors: the same rule and words as in Rust and Python', async () => {
  assert.ok(INPUT.length >= 40)
  for (const vector of INPUT) {
    const value = inputValue(vector.value)
    const name = jsName(vector.argument)
    const what = `${vector.call} ${vector.argument}=${JSON.stringify(vector.value).slice(0, 40)}`
    const expected = vector.problem === 'range' ? 'RangeError' : 'TypeError'
    await assert.rejects(refuse(vector, value), (e) => {
      assert.equal(e.name, expected, `${what}: ${e.name}: ${e.message}`)
      assert.ok(e.message.includes(`"${name}"`) || e.message.includes(`"${name}[`), `${what}: ${e.message}`)
      if (vector.message !== null) assert.ok(e.message.includes(vector.message), `${what}: ${e.message}`)
      if (vector.not_echoed) assert.ok(!e.message.includes(value), `${what}: echoed in ${e.message}`)
      return true
    })
  }
})

// ------------------------------------------------ tests/conformance/batch/*.json

const BATCH_DIR = join(DIR, 'batch')
const batchFiles = readdirSync(BATCH_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()

/** `relative_url` as path plus decoded query; a body as its decoded form fields. */
function splitRelative(url) {
  const [path, query = ''] = url.split(/\?(.*)/s)
  return [path, Object.fromEntries(new URLSearchParams(query))]
}

function checkBatchRequest(i, want, got) {
  const what = `request ${i}`
  assert.equal(got.method, want.method ?? 'POST', what)
  assert.equal(got.path, want.path ?? '/', what)
  assert.deepEqual(Object.fromEntries(got.query), want.query ?? {}, what)
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    assert.equal(got.headers[name.toLowerCase()], value, `${what}: header ${name}`)
  }
  const form = Object.fromEntries(new URLSearchParams(got.body))
  const sent = JSON.parse(form.batch)
  delete form.batch
  assert.deepEqual(form, want.form ?? {}, what)
  assert.equal(sent.length, want.batch.length, what)
  want.batch.forEach((w, j) => {
    const g = sent[j]
    assert.deepEqual(Object.keys(g).filter((k) => !['method', 'relative_url', 'body'].includes(k)), [], `${what} op ${j}`)
    assert.equal(g.method, w.method, `${what} op ${j}`)
    assert.deepEqual(splitRelative(g.relative_url), splitRelative(w.relative_url), `${what} op ${j}`)
    const body = g.body === undefined || g.body === null ? null : Object.fromEntries(new URLSearchParams(g.body))
    assert.deepEqual(body, w.body, `${what} op ${j}`)
  })
}

/** A batch value in the README's plain shape (snake_case, ISO times as ms). */
function plainValue(v) {
  if (v === null) return null
  if (Array.isArray(v)) return v
  if ('appId' in v) return { app_id: v.appId, expiration: iso(v.expiration) }
  return { hop_v2: v.hopV2, msgr_multi_app: v.msgrMultiApp, ig_multi_app: v.igMultiApp }
}

function wantValue(w) {
  return w !== null && typeof w === 'object' && 'app_id' in w ? { ...w, expiration: iso(w.expiration) } : w
}

test('there are batch vectors', () => {
  assert.ok(batchFiles.length >= 10, `only ${batchFiles.length} vectors in ${BATCH_DIR}`)
})

for (const file of batchFiles) {
  test(`conformance: batch/${file.replace(/\.json$/, '')}`, { timeout: 30_000 }, async () => {
    const v = JSON.parse(readFileSync(join(BATCH_DIR, file), 'utf8'))
    const server = await ScriptedServer.start()
    try {
      for (const r of queued(v)) server.pushResponse(r)
      const client = makeClient(v, server.url)
      let results
      let err
      try {
        results =
          v.call.op === 'batch'
            ? await client.batch(v.call.args.operations)
            : await client.threadOwners(v.call.args.psids)
      } catch (e) {
        err = e
      }
      client.close()
      const requests = server.requests()
      assert.equal(requests.length, v.requests.length, `${requests.length} request(s) instead of ${v.requests.length}`)
      v.requests.forEach((want, i) => checkBatchRequest(i, want, requests[i]))
      for (const r of requests) {
        assert.ok(!r.path.includes(TOKEN) && !r.body.includes(TOKEN) && !r.query.some(([, x]) => x.includes(TOKEN)))
      }
      if ('error' in v.expect) {
        assert.ok(err, `expected an error, got ${JSON.stringify(results)}`)
        checkError(v.expect.error, err)
        return
      }
      assert.ok(!err, `unexpected error ${err}`)
      assert.equal(results.length, v.expect.results.length)
      v.expect.results.forEach((want, i) => {
        const got = results[i]
        if ('error' in want) {
          assert.equal(got.ok, false, `result ${i}: ${JSON.stringify(got)}`)
          checkError(want.error, got.error)
        } else {
          assert.equal(got.ok, true, `result ${i}: ${got.error}`)
          assert.deepEqual(plainValue(got.value), wantValue(want.value), `result ${i}`)
        }
      })
    } finally {
      await server.stop()
    }
  })
}
