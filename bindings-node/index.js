'use strict'
// messenger-handover: the Messenger thread-control API and the Page
// conversations edge, over a native (Rust) core. This file adds the
// JavaScript idioms: option objects, AbortSignal, async iteration, error
// classes. Every Graph rule lives in the core.

const { inspect } = require('node:util')
const native = require('./native.js')
const errors = require('./errors.js')
const webhooks = require('./webhooks.js')
const diagnostics = require('./diagnostics.js')

const { fromNative, invalidArgument, abortError, describe, checkString, shownName } = errors

// ---------------------------------------------------------------- checks

function checkOptionalString(name, value) {
  if (value !== undefined && value !== null) checkString(name, value)
}

// Only JavaScript's types are checked here; every range is the core's.
function checkNumber(name, value) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidArgument(name, `must be a number; received ${describe(value)}`, { range: false })
  }
}

function checkStringArray(name, value) {
  if (!Array.isArray(value)) throw invalidArgument(name, `must be an array of strings; received ${describe(value)}`, { range: false })
  // By index: forEach skips the holes of a sparse array, which napi then refused with a plain Error.
  for (let i = 0; i < value.length; i++) checkString(`${name}[${i}]`, value[i])
}

function isAbortSignal(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.aborted === 'boolean' &&
    typeof value.addEventListener === 'function' &&
    typeof value.removeEventListener === 'function'
  )
}

/** Checks an option object: only known keys, right types. */
function readOptions(name, value, allowed) {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument(name, `must be an object; received ${describe(value)}`, { range: false })
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const which = shownName(key) ?? '(not shown)'
      throw invalidArgument(name, `has an unknown option ${which}; expected ${allowed.join(', ')}`, { range: false })
    }
  }
  if (value.signal !== undefined && value.signal !== null && !isAbortSignal(value.signal)) {
    throw invalidArgument('signal', `must be an AbortSignal; received ${describe(value.signal)}`, { range: false })
  }
  return value
}

// ------------------------------------------------------------ abortable calls

/**
 * Runs one native call. With a signal, the call gets a native cancel token
 * that 'abort' trips: the Rust future is dropped at once, and the promise
 * rejects with an AbortError as soon as the native call has stopped. A call
 * that had already finished when the abort came resolves with its result
 * instead: rejecting would drop a page the pager had already handed out
 * (it would never be seen), or hide a handover that happened.
 */
function run(signal, start) {
  diagnostics.sync()
  if (signal === undefined || signal === null) {
    let p
    try {
      p = start(undefined)
    } catch (e) {
      return Promise.reject(fromNative(e))
    }
    return p.catch((e) => {
      throw fromNative(e)
    })
  }
  if (signal.aborted) return Promise.reject(abortError(signal))
  return new Promise((resolve, reject) => {
    const token = new native.CancelToken()
    let aborted = false
    const onAbort = () => {
      aborted = true
      token.cancel()
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const done = () => signal.removeEventListener('abort', onAbort)
    let p
    try {
      p = start(token)
    } catch (e) {
      done()
      reject(fromNative(e))
      return
    }
    p.then(
      (v) => {
        done()
        resolve(v)
      },
      (e) => {
        done()
        reject(aborted ? abortError(signal) : fromNative(e))
      },
    )
  })
}

// -------------------------------------------------------------------- paging

/** A participant whole from its JSON form (absent name and email left out). */
function participant(p) {
  return { id: p.id, name: p.name ?? null, email: p.email ?? null }
}

/**
 * The conversations of a Page: `for await` item by item, `pages()` page by
 * page, `after` to resume. Breaking out of a loop stops fetching.
 */
class Conversations {
  #pager
  #signal
  // Items of the last page handed out by `for await` (null: the whole page).
  #consumed = null
  // Pages handed out so far: an item loop whose page is no longer the last
  // one (nextPage() was called meanwhile) drops the rest of it.
  #pages = 0

  constructor(pager, signal) {
    this.#pager = pager
    this.#signal = signal
  }

  /**
   * The resume point after every item handed out so far (exact to the item,
   * even when a loop stopped mid-page); pass it as `after` to resume.
   */
  get after() {
    return this.#pager.resumeAfter(this.#consumed)
  }

  /** True once the last page was read or `close()` was called. */
  get closed() {
    return this.#pager.closed
  }

  /** The next page (`{ items, after, hasNext }`), or null after the last. */
  async nextPage(options) {
    const { signal = this.#signal } = readOptions('options', options, ['signal'])
    // A prefetched page that already landed is taken at once: awaiting the
    // runtime would cost a round trip through the event loop per page.
    let json = null
    if (!signal?.aborted) {
      try {
        json = this.#pager.nextPageReady()
      } catch (e) {
        throw fromNative(e)
      }
    }
    if (json === null) json = await run(signal, (token) => this.#pager.nextPage(token))
    this.#consumed = null
    if (json === null || json === undefined) return null
    this.#pages++
    // The page crosses N-API as one JSON text: one JSON.parse is far cheaper
    // than building every item property by property through N-API.
    const page = JSON.parse(json)
    const items = page.items
    const revive = this.constructor.revive
    for (let i = 0; i < items.length; i++) items[i] = revive(items[i])
    return { items, after: page.after, hasNext: page.hasNext }
  }

  /**
   * A conversation whole from its JSON form (convert.rs `ConversationJson`),
   * which leaves out absent fields and empty lists: every field present (null
   * or [] when absent), in one shape, and times (epoch ms) as `Date`s.
   */
  static revive(c) {
    return {
      id: c.id,
      updatedTime: c.updatedTime === undefined ? null : new Date(c.updatedTime),
      link: c.link ?? null,
      snippet: c.snippet ?? null,
      messageCount: c.messageCount ?? null,
      unreadCount: c.unreadCount ?? null,
      participants: c.participants === undefined ? [] : c.participants.map(participant),
      senders: c.senders === undefined ? [] : c.senders.map(participant),
      canReply: c.canReply ?? null,
      isSubscribed: c.isSubscribed ?? null,
      isOwner: c.isOwner ?? null,
      scopedThreadKey: c.scopedThreadKey ?? null,
      folder: c.folder ?? null,
      platform: c.platform ?? null,
      messages: c.messages === undefined ? [] : c.messages.map(Messages.revive),
      raw: c.raw,
    }
  }

  /** Every page, in order. Leaving the loop early stops the prefetch. */
  async *pages(options) {
    try {
      for (;;) {
        const page = await this.nextPage(options)
        if (page === null) return
        yield page
      }
    } finally {
      this.close()
    }
  }

  /**
   * Item by item, for `for await`. A plain iterator, not an async generator:
   * a generator costs several promise turns per item, a tenth of a fast
   * walk's time (issue 14). Leaving the loop early (break, throw) or a failed
   * page stops the prefetch, as `pages()` does; calls made before the last
   * one settled queue behind it, as a generator's do.
   */
  [Symbol.asyncIterator]() {
    let items = []
    let i = 0
    let page = -1 // which page `items` is (see #pages)
    let ended = false
    let waiting = null // the last next() that had to wait for a page
    const current = () => {
      // nextPage() handed a page out whole since: the rest of ours is not the pager's to count.
      if (page !== this.#pages) items = []
      return i < items.length
    }
    const end = () => {
      ended = true
      items = []
      this.close()
    }
    const advance = async () => {
      while (!current()) {
        if (ended) return { value: undefined, done: true }
        let next
        try {
          next = await this.nextPage()
        } catch (e) {
          end()
          throw e
        }
        if (next === null) {
          end()
          return { value: undefined, done: true }
        }
        items = next.items
        i = 0
        page = this.#pages
      }
      // Counted before handing out: a `break` leaves `after` just past this item.
      this.#consumed = i + 1
      return { value: items[i++], done: false }
    }
    return {
      next: () => {
        if (waiting === null && current()) {
          this.#consumed = i + 1
          return Promise.resolve({ value: items[i++], done: false })
        }
        const p = waiting === null ? advance() : waiting.then(advance, advance)
        waiting = p
        const settled = () => {
          if (waiting === p) waiting = null
        }
        p.then(settled, settled)
        return p
      },
      return: async (value) => {
        end()
        return { value, done: true }
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
  }

  /** Stops paging; a page being prefetched is cancelled. */
  close() {
    this.#pager.close()
  }

  [inspect.custom](depth, opts, insp = inspect) {
    return `Conversations ${insp({ after: this.after, closed: this.closed }, opts)}`
  }
}

// --------------------------------------------------------------------- batch

/** Drops absent options, so an operation carries only what was given. */
function compact(fields) {
  const out = {}
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) out[k] = v
  return out
}

/** Checks `client.batch()`'s operations: an array of objects (the core checks each one). */
function checkOperations(name, value) {
  if (!Array.isArray(value)) {
    throw invalidArgument(name, `must be an array of operations; received ${describe(value)}`, { range: false })
  }
  for (let i = 0; i < value.length; i++) {
    const op = value[i]
    if (op === null || typeof op !== 'object' || Array.isArray(op)) {
      throw invalidArgument(name, `item ${i} must be an operation object; received ${describe(op)}`, { range: false })
    }
    // What JSON can carry; anything else (a Symbol, a Buffer, NaN) napi refused with a plain Error.
    for (const v of Object.values(op)) {
      const json = v === undefined || v === null || ['string', 'boolean'].includes(typeof v) || Number.isFinite(v)
      if (!json) {
        throw invalidArgument(name, `item ${i} holds a value that is not a string, a finite number, a boolean or null; received ${describe(v)}`, { range: false })
      }
      if (typeof v === 'string') checkString(`${name}[${i}]`, v)
    }
  }
}

/**
 * Builders of `client.batch()` operations. Each returns the plain object the
 * core reads (`{ op: 'thread_owner', psid }`), so a plain object in that form
 * works as well; the core checks every argument when the batch is called.
 */
const batchOp = Object.freeze({
  // BEGIN GENERATED by `cargo run -p xtask -- gen` from the core's tables: do not edit: batch operations
  /** One `thread_owner` of a batch (see `Client.threadOwner`). */
  threadOwner(psid) {
    checkString('psid', psid)
    return { op: 'thread_owner', psid }
  },
  /** One `pass_thread_control` of a batch (see `Client.passThreadControl`). */
  passThreadControl(psid, targetAppId, options) {
    checkString('psid', psid)
    checkString('targetAppId', targetAppId)
    const { metadata } = readOptions('options', options, ['metadata'])
    checkOptionalString('metadata', metadata)
    return compact({ op: 'pass_thread_control', psid, target_app_id: targetAppId, metadata })
  },
  /** One `pass_thread_control_to_page_inbox` of a batch (see `Client.passThreadControlToPageInbox`). */
  passThreadControlToPageInbox(psid, options) {
    checkString('psid', psid)
    const { metadata, platform } = readOptions('options', options, ['metadata', 'platform'])
    checkOptionalString('metadata', metadata)
    checkOptionalString('platform', platform)
    return compact({ op: 'pass_thread_control_to_page_inbox', psid, metadata, platform })
  },
  /** One `feature_status` of a batch (see `Client.featureStatus`). */
  featureStatus() {
    return { op: 'feature_status' }
  },
  /** One `take_thread_control` of a batch (see `Client.takeThreadControl`). */
  takeThreadControl(psid, options) {
    checkString('psid', psid)
    const { metadata } = readOptions('options', options, ['metadata'])
    checkOptionalString('metadata', metadata)
    return compact({ op: 'take_thread_control', psid, metadata })
  },
  /** One `request_thread_control` of a batch (see `Client.requestThreadControl`). */
  requestThreadControl(psid, options) {
    checkString('psid', psid)
    const { metadata } = readOptions('options', options, ['metadata'])
    checkOptionalString('metadata', metadata)
    return compact({ op: 'request_thread_control', psid, metadata })
  },
  /** One `release_thread_control` of a batch (see `Client.releaseThreadControl`). */
  releaseThreadControl(psid, options) {
    checkString('psid', psid)
    const { metadata } = readOptions('options', options, ['metadata'])
    checkOptionalString('metadata', metadata)
    return compact({ op: 'release_thread_control', psid, metadata })
  },
  /** One `extend_thread_control` of a batch (see `Client.extendThreadControl`). */
  extendThreadControl(psid, durationSeconds) {
    checkString('psid', psid)
    checkNumber('durationSeconds', durationSeconds)
    return { op: 'extend_thread_control', psid, duration: durationSeconds }
  },
  /** One `secondary_receivers` of a batch (see `Client.secondaryReceivers`). */
  secondaryReceivers() {
    return { op: 'secondary_receivers' }
  },
  // END GENERATED
})

/** One native batch item as `{ ok: true, value }` or `{ ok: false, error }`. */
function settle(item) {
  if (item.ok) return { ok: true, value: item.value ?? null }
  return { ok: false, error: fromNative({ nativeError: item.error }) }
}

// ------------------------------------------------- messages and the export (issue 12)

/**
 * The messages of a conversation, newest first: `for await` item by item,
 * `pages()` page by page, `after` to resume exactly where a loop stopped.
 */
class Messages extends Conversations {
  /** A message whole from its JSON form (convert.rs `MessageJson`), as `Conversations.revive` does. */
  static revive(m) {
    return {
      id: m.id,
      createdTime: m.createdTime === undefined ? null : new Date(m.createdTime),
      sender: m.sender === undefined ? null : participant(m.sender),
      recipients: m.recipients === undefined ? [] : m.recipients.map(participant),
      text: m.text ?? null,
      attachments: m.attachments ?? null,
      raw: m.raw,
    }
  }

  [inspect.custom](depth, opts, insp = inspect) {
    return `Messages ${insp({ after: this.after, closed: this.closed }, opts)}`
  }
}

const EXPORT_OPTIONS = [
  'folders',
  'platforms',
  'fields',
  'messages',
  'since',
  'checkpoint',
  'maxCallsPerSecond',
  'pageSize',
  'onProgress',
  'signal',
]

function checkExportOptions(o) {
  for (const k of ['folders', 'platforms', 'fields']) if (o[k] !== undefined && o[k] !== null) checkStringArray(k, o[k])
  for (const k of ['messages', 'pageSize']) if (o[k] !== undefined && o[k] !== null) checkNumber(k, o[k])
  if (o.maxCallsPerSecond !== undefined && o.maxCallsPerSecond !== null) checkNumber('maxCallsPerSecond', o.maxCallsPerSecond)
  checkOptionalString('checkpoint', o.checkpoint)
  if (o.since !== undefined && o.since !== null && !(o.since instanceof Date && !Number.isNaN(o.since.getTime()))) {
    throw invalidArgument('since', `must be a valid Date; received ${describe(o.since)}`, { range: false })
  }
  if (o.onProgress !== undefined && o.onProgress !== null && typeof o.onProgress !== 'function') {
    throw invalidArgument('onProgress', `must be a function; received ${describe(o.onProgress)}`, { range: false })
  }
}

/**
 * A running export of the Page's inbox (`client.exportConversations()`):
 * walk it once, with `for await`, `toArray()` or `writeJsonl(path)`
 * (resumable with `checkpoint`). Each conversation comes once, with `folder`
 * and `platform` filled in. `stats` is live; `onProgress(stats)` is called
 * after every page.
 */
class Export {
  #native
  #signal
  #onProgress
  /** The stats last handed to onProgress. */
  #delivered = null
  // The conversations of the last native batch (a page) not handed out yet,
  // from #next on, and the stats after each (see NativeExport.nextBatch).
  #items = []
  #itemStats = []
  #next = 0
  /** The stats after the last conversation handed out; null: the native export's. */
  #current = null
  /** The nextBatch() call in flight, if any. */
  #fetching = null

  constructor(nativeExport, signal, onProgress) {
    this.#native = nativeExport
    this.#signal = signal
    this.#onProgress = onProgress
  }

  /** `{ calls, pages, conversations, duplicatesDropped, timeWaitedMs }`, cumulative across resumed runs. */
  get stats() {
    return this.#current === null ? this.#native.stats : { ...this.#current }
  }

  /**
   * Hands `stats` to onProgress when a page was added since the last call
   * (or, `final`, when anything differs from what it last got).
   */
  #progress(stats, final = false) {
    if (!this.#onProgress) return
    const last = this.#delivered
    if (last !== null && (final ? Object.keys(stats).every((k) => last[k] === stats[k]) : last.pages === stats.pages)) {
      return
    }
    this.#delivered = stats
    this.#onProgress(stats)
  }

  /** The next conversation, or null when every walk has ended. */
  async next(options) {
    const { signal = this.#signal } = readOptions('options', options, ['signal'])
    for (;;) {
      if (this.#next < this.#items.length) {
        if (signal !== undefined && signal !== null && signal.aborted) throw abortError(signal)
        const i = this.#next++
        const conv = this.#items[i]
        this.#items[i] = undefined
        this.#current = this.#itemStats[i]
        this.#progress({ ...this.#current })
        return conv
      }
      if (this.#fetching !== null) {
        // Another next() is fetching the next page: hand out from it (or fetch again if it failed).
        await this.#fetching.catch(() => {})
        continue
      }
      // A page crosses N-API as one JSON text (as the pagers' pages do), handed out from here.
      const fetching = run(signal, (token) => this.#native.nextBatch(token))
      this.#fetching = fetching
      let json
      try {
        json = await fetching
      } finally {
        this.#fetching = null
      }
      if (json === null || json === undefined) {
        this.#current = null
        this.#progress(this.#native.stats)
        return null
      }
      const batch = JSON.parse(json)
      this.#items = batch.items.map(Conversations.revive)
      this.#itemStats = batch.stats
      this.#next = 0
    }
  }

  async *[Symbol.asyncIterator]() {
    for (;;) {
      const conv = await this.next()
      if (conv === null) return
      yield conv
    }
  }

  /** Every conversation, in an array. */
  async toArray() {
    const out = []
    for await (const conv of this) out.push(conv)
    return out
  }

  /**
   * Writes every conversation as one JSON line (Graph's object with `folder`
   * and `platform`); resolves to the stats. With `checkpoint`, a run that was
   * killed or aborted continues where it stopped when started again with the
   * same options: no line twice, none lost, never a partial line.
   * onProgress gets the stats the core pushes after each page it wrote (pages
   * written faster than the event loop runs coalesce into one call with the
   * latest), then the final stats if they differ.
   */
  async writeJsonl(path, options) {
    checkString('path', path)
    const { signal = this.#signal } = readOptions('options', options, ['signal'])
    if (this.#next < this.#items.length) {
      // Conversations fetched for next() and not handed out would be missing from the file.
      throw fromNative({ nativeError: { tag: 'state', message: 'this export was already iterated or written' } })
    }
    this.#current = null
    let settled = false
    // A push still queued when the write settles is stale: the final call covers it.
    const push = this.#onProgress ? (stats) => settled || this.#progress(stats) : undefined
    try {
      const stats = await run(signal, (token) => this.#native.writeJsonl(path, token, push))
      settled = true
      this.#progress(stats, true)
      return stats
    } finally {
      settled = true
    }
  }

  [inspect.custom](depth, opts, insp = inspect) {
    return `Export ${insp({ stats: this.stats }, opts)}`
  }
}

// -------------------------------------------------------------------- client

const CLIENT_OPTIONS = [
  'accessToken',
  'pageId',
  'appSecret',
  'apiVersion',
  'baseUrl',
  'timeoutMs',
  'maxRetries',
  'maxRetryWaitMs',
  'retryBaseDelayMs',
  'maxResponseBytes',
  'maxConnections',
]

const CONVERSATIONS_OPTIONS = ['folder', 'platform', 'userId', 'tags', 'fields', 'pageSize', 'after', 'messages', 'signal']

/**
 * A Messenger thread-control and conversations client for one Page.
 * Every method returns a Promise and takes a last, optional options object
 * with `signal` (an AbortSignal).
 */
class Client {
  #native

  constructor(options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw invalidArgument('options', `must be an object; received ${describe(options)}`, { range: false })
    }
    const o = { ...readOptions('options', options, CLIENT_OPTIONS) }
    if (o.accessToken === undefined) {
      // Read at construction; an empty variable counts as unset.
      o.accessToken = process.env[ACCESS_TOKEN_ENV] || undefined
      if (o.accessToken === undefined) {
        throw invalidArgument('accessToken', `must be given, or set in ${ACCESS_TOKEN_ENV}`, { range: false })
      }
    }
    checkString('accessToken', o.accessToken)
    for (const k of ['pageId', 'appSecret', 'apiVersion', 'baseUrl']) {
      if (o[k] !== undefined) checkString(k, o[k])
    }
    for (const k of ['timeoutMs', 'maxRetries', 'maxRetryWaitMs', 'retryBaseDelayMs', 'maxResponseBytes', 'maxConnections']) {
      if (o[k] !== undefined) checkNumber(k, o[k])
    }
    const settings = {}
    for (const k of CLIENT_OPTIONS) if (o[k] !== undefined) settings[k] = o[k]
    try {
      this.#native = new native.NativeClient(settings)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** The Page's id as configured (`me` by default). */
  get pageId() {
    return this.#native.pageId
  }

  get apiVersion() {
    return this.#native.apiVersion
  }

  get baseUrl() {
    return this.#native.baseUrl
  }

  get closed() {
    return this.#native.closed
  }

  /** The usage headers of the last response that carried any, or null. */
  get lastUsage() {
    return this.#native.lastUsage ?? null
  }

  // BEGIN GENERATED by `cargo run -p xtask -- gen` from the core's tables: do not edit: client operations
  /** Which app controls the thread with this user; none when the thread is idle. */
  async threadOwner(psid, options) {
    checkString('psid', psid)
    const { signal } = readOptions('options', options, ['signal'])
    return (await run(signal, (t) => this.#native.threadOwner(psid, t))) ?? null
  }

  /** Passes the thread to another app (`targetAppId`: digits only). */
  async passThreadControl(psid, targetAppId, options) {
    checkString('psid', psid)
    checkString('targetAppId', targetAppId)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    checkOptionalString('metadata', metadata)
    await run(signal, (t) => this.#native.passThreadControl(psid, targetAppId, metadata ?? undefined, t))
  }

  /** Hands the chat to the people answering in the Page Inbox, or with platform `instagram` in the Instagram Inbox. */
  async passThreadControlToPageInbox(psid, options) {
    checkString('psid', psid)
    const { signal, metadata, platform } = readOptions('options', options, ['signal', 'metadata', 'platform'])
    checkOptionalString('metadata', metadata)
    checkOptionalString('platform', platform)
    await run(signal, (t) =>
      this.#native.passThreadControlToPageInbox(psid, metadata ?? undefined, platform ?? undefined, t),
    )
  }

  /** Whether Conversation Routing (`hopV2`) and multi-app messaging are on for the Page. */
  async featureStatus(options) {
    const { signal } = readOptions('options', options, ['signal'])
    return run(signal, (t) => this.#native.featureStatus(t))
  }

  /**
   * Runs many operations through Graph batch requests (50 per request, longer lists in concurrent requests).
   * Gives one result per operation, in order: its value, or its error (returned, not raised). Fails only for
   * a bad argument, before anything is sent.
   */
  async batch(operations, options) {
    checkOperations('operations', operations)
    const { signal } = readOptions('options', options, ['signal'])
    return (await run(signal, (t) => this.#native.batch(operations.map((op) => compact(op)), t))).map(settle)
  }

  /**
   * Who owns each thread, through batch requests: one result per PSID, in order (the owner, none when the
   * thread is idle, or that PSID's error).
   */
  async threadOwners(psids, options) {
    checkStringArray('psids', psids)
    const { signal } = readOptions('options', options, ['signal'])
    return (await run(signal, (t) => this.#native.threadOwners(psids, t))).map(settle)
  }

  /** Takes the thread back from the app that controls it (the Page's primary receiver only). */
  async takeThreadControl(psid, options) {
    checkString('psid', psid)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    checkOptionalString('metadata', metadata)
    await run(signal, (t) => this.#native.takeThreadControl(psid, metadata ?? undefined, t))
  }

  /** Asks the primary receiver to pass the thread to this app. */
  async requestThreadControl(psid, options) {
    checkString('psid', psid)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    checkOptionalString('metadata', metadata)
    await run(signal, (t) => this.#native.requestThreadControl(psid, metadata ?? undefined, t))
  }

  /** Gives up control of the thread (Conversation Routing). */
  async releaseThreadControl(psid, options) {
    checkString('psid', psid)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    checkOptionalString('metadata', metadata)
    await run(signal, (t) => this.#native.releaseThreadControl(psid, metadata ?? undefined, t))
  }

  /** Extends this app's control of the thread (Conversation Routing) by `durationSeconds`. */
  async extendThreadControl(psid, durationSeconds, options) {
    checkString('psid', psid)
    checkNumber('durationSeconds', durationSeconds)
    const { signal } = readOptions('options', options, ['signal'])
    await run(signal, (t) => this.#native.extendThreadControl(psid, durationSeconds, t))
  }

  /** The apps with a role on the Page besides this one. */
  async secondaryReceivers(options) {
    const { signal } = readOptions('options', options, ['signal'])
    return run(signal, (t) => this.#native.secondaryReceivers(t))
  }
  // END GENERATED

  /**
   * The Page's conversations. Arguments are checked now; nothing is sent
   * until the first item or page is asked for.
   */
  conversations(options) {
    const o = readOptions('options', options, CONVERSATIONS_OPTIONS)
    for (const k of ['folder', 'platform', 'userId', 'after']) checkOptionalString(k, o[k])
    if (o.tags !== undefined && o.tags !== null) checkStringArray('tags', o.tags)
    if (o.fields !== undefined && o.fields !== null) checkStringArray('fields', o.fields)
    if (o.pageSize !== undefined && o.pageSize !== null) checkNumber('pageSize', o.pageSize)
    if (o.messages !== undefined && o.messages !== null) checkNumber('messages', o.messages)
    const query = {}
    for (const k of CONVERSATIONS_OPTIONS) if (k !== 'signal' && o[k] !== undefined && o[k] !== null) query[k] = o[k]
    let pager
    try {
      pager = this.#native.conversations(query)
    } catch (e) {
      throw fromNative(e)
    }
    return new Conversations(pager, o.signal ?? undefined)
  }

  // ---- messages and the export (issue 12) ----

  /**
   * The messages of a conversation, newest first (`fields`, `pageSize`,
   * `after`, `signal`). Arguments are checked now; nothing is sent until the
   * first item or page is asked for.
   */
  messages(conversationId, options) {
    checkString('conversationId', conversationId)
    const o = readOptions('options', options, ['fields', 'pageSize', 'after', 'signal'])
    checkOptionalString('after', o.after)
    if (o.fields !== undefined && o.fields !== null) checkStringArray('fields', o.fields)
    if (o.pageSize !== undefined && o.pageSize !== null) checkNumber('pageSize', o.pageSize)
    const query = {}
    for (const k of ['fields', 'pageSize', 'after']) if (o[k] !== undefined && o[k] !== null) query[k] = o[k]
    let pager
    try {
      pager = this.#native.messages(conversationId, query)
    } catch (e) {
      throw fromNative(e)
    }
    return new Messages(pager, o.signal ?? undefined)
  }

  /**
   * Exports the Page's inbox: `folders` (default all four) x `platforms`
   * (default messenger), each conversation once, `messages` newest messages
   * each, stopping at conversations older than `since`, paced to
   * `maxCallsPerSecond` (default 2; null turns it off), `checkpoint` making
   * `writeJsonl` resumable. Arguments are checked now; nothing is sent yet.
   */
  exportConversations(options) {
    const o = readOptions('options', options, EXPORT_OPTIONS)
    checkExportOptions(o)
    const query = {}
    for (const k of EXPORT_OPTIONS) {
      if (k !== 'signal' && k !== 'onProgress' && o[k] !== undefined && o[k] !== null) query[k] = o[k]
    }
    // null turns the pacing off; absent keeps the core's default.
    if (o.maxCallsPerSecond === null) query.pacingOff = true
    let nativeExport
    try {
      nativeExport = this.#native.exportConversations(query)
    } catch (e) {
      throw fromNative(e)
    }
    return new Export(nativeExport, o.signal ?? undefined, o.onProgress ?? undefined)
  }

  /** Releases the client. Calls in flight finish; later calls reject. */
  close() {
    this.#native.close()
  }

  [inspect.custom](depth, opts, insp = inspect) {
    const shown = {
      pageId: this.pageId,
      apiVersion: this.apiVersion,
      baseUrl: this.baseUrl,
      accessToken: '[redacted]',
      closed: this.closed,
    }
    return `Client ${insp(shown, opts)}`
  }

  toJSON() {
    return { pageId: this.pageId, apiVersion: this.apiVersion, baseUrl: this.baseUrl }
  }
}

// BEGIN GENERATED by `cargo run -p xtask -- gen` from the core's tables: do not edit
/** The environment variable the clients and the CLI read the access token from when none is given. */
const ACCESS_TOKEN_ENV = 'PAGE_ACCESS_TOKEN'
/** The Page Inbox app: passing a thread to it hands the chat to humans. */
const PAGE_INBOX_APP_ID = '263902037430900'
/** The Instagram Inbox app, the Page Inbox's counterpart for Instagram. */
const INSTAGRAM_INBOX_APP_ID = '1217981644879628'
/** The Graph API version calls use unless told otherwise. */
const DEFAULT_API_VERSION = 'v26.0'
/** Where calls go unless told otherwise. */
const DEFAULT_BASE_URL = 'https://graph.facebook.com'
/** The whole-call timeout. In milliseconds. */
const DEFAULT_TIMEOUT_MS = 30000
/** How many times a failed call may be sent again. */
const DEFAULT_MAX_RETRIES = 3
/** The largest max_retries accepted, in every language. */
const MAX_RETRIES_LIMIT = 100
/** A throttled call that would wait longer fails at once. In milliseconds. */
const DEFAULT_MAX_RETRY_WAIT_MS = 60000
/** The first backoff step. In milliseconds. */
const DEFAULT_RETRY_BASE_DELAY_MS = 250
/** Larger answers are refused. */
const DEFAULT_MAX_RESPONSE_BYTES = 16777216
/** Connections in flight per client; calls beyond it wait. */
const DEFAULT_MAX_CONNECTIONS = 100
const CONSTANTS = {
  ACCESS_TOKEN_ENV,
  PAGE_INBOX_APP_ID,
  INSTAGRAM_INBOX_APP_ID,
  DEFAULT_API_VERSION,
  DEFAULT_BASE_URL,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_MAX_RETRIES,
  MAX_RETRIES_LIMIT,
  DEFAULT_MAX_RETRY_WAIT_MS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MAX_CONNECTIONS,
}
// END GENERATED

module.exports = {
  Client,
  Conversations,
  Messages,
  Export,
  batchOp,
  ...CONSTANTS,
  version: native.nativeVersion(),
  ...errors.CLASSES,
  verifySignature: webhooks.verifySignature,
  verifySubscription: webhooks.verifySubscription,
  parseEvents: webhooks.parseEvents,
  signWebhookBody: webhooks.signWebhookBody,
  createWebhookHandler: webhooks.createWebhookHandler,
}
