'use strict'
// messenger-handover: the Messenger thread-control API and the Page
// conversations edge, over a native (Rust) core. This file adds the
// JavaScript idioms: option objects, AbortSignal, async iteration, error
// classes. Every Graph rule lives in the core.

const { inspect } = require('node:util')
const native = require('./native.js')
const errors = require('./errors.js')
const webhooks = require('./webhooks.js')

const { fromNative, invalidArgument, abortError } = errors

// ---------------------------------------------------------------- checks

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `of type ${typeof value}`
}

function checkString(name, value) {
  if (typeof value !== 'string') throw invalidArgument(name, `must be a string; received ${describe(value)}`, { range: false })
}

function checkOptionalString(name, value) {
  if (value !== undefined && value !== null) checkString(name, value)
}

function checkNumber(name, value, { integer = false, min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidArgument(name, `must be a number; received ${describe(value)}`, { range: false })
  }
  if (integer && !Number.isInteger(value)) throw invalidArgument(name, `must be an integer; received ${value}`, { range: true })
  if (!(value >= min && value <= max)) {
    throw invalidArgument(name, `must be >= ${min} and <= ${max}; received ${value}`, { range: true })
  }
}

function checkStringArray(name, value) {
  if (!Array.isArray(value)) throw invalidArgument(name, `must be an array of strings; received ${describe(value)}`, { range: false })
  value.forEach((v, i) => checkString(`${name}[${i}]`, v))
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
      throw invalidArgument(name, `has an unknown option "${key}"; expected ${allowed.join(', ')}`, { range: false })
    }
  }
  if (value.signal !== undefined && value.signal !== null && !isAbortSignal(value.signal)) {
    throw invalidArgument('signal', `must be an AbortSignal; received ${describe(value.signal)}`, { range: false })
  }
  if ('metadata' in value) checkOptionalString('metadata', value.metadata)
  return value
}

// ------------------------------------------------------------ abortable calls

/**
 * Runs one native call. With a signal, the call gets a native cancel token
 * that 'abort' trips: the Rust future is dropped at once and the promise
 * rejects with an AbortError straight away.
 */
function run(signal, start) {
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
    const onAbort = () => {
      token.cancel()
      reject(abortError(signal))
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
        reject(fromNative(e))
      },
    )
  })
}

// -------------------------------------------------------------------- paging

/**
 * The conversations of a Page: `for await` item by item, `pages()` page by
 * page, `after` to resume. Breaking out of a loop stops fetching.
 */
class Conversations {
  #pager
  #signal

  constructor(pager, signal) {
    this.#pager = pager
    this.#signal = signal
  }

  /** The cursor after the last page read; pass it as `after` to resume. */
  get after() {
    return this.#pager.after
  }

  /** True once the last page was read or `close()` was called. */
  get closed() {
    return this.#pager.closed
  }

  /** The next page (`{ items, after, hasNext }`), or null after the last. */
  async nextPage(options) {
    const { signal = this.#signal } = readOptions('options', options, ['signal'])
    const page = await run(signal, (token) => this.#pager.nextPage(token))
    if (page === null || page === undefined) return null
    return { items: page.items, after: page.after, hasNext: page.hasNext }
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

  async *[Symbol.asyncIterator]() {
    for await (const page of this.pages()) {
      yield* page.items
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

const CONVERSATIONS_OPTIONS = ['folder', 'platform', 'userId', 'tags', 'fields', 'pageSize', 'after', 'signal']

/**
 * A Messenger thread-control and conversations client for one Page.
 * Every method returns a Promise and takes a last, optional options object
 * with `signal` (an AbortSignal).
 */
class Client {
  #native

  constructor(options) {
    if (options === undefined || options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw invalidArgument('options', `must be an object with an accessToken; received ${describe(options)}`, {
        range: false,
      })
    }
    const o = readOptions('options', options, CLIENT_OPTIONS)
    checkString('accessToken', o.accessToken)
    for (const k of ['pageId', 'appSecret', 'apiVersion', 'baseUrl']) {
      if (o[k] !== undefined) checkString(k, o[k])
    }
    if (o.timeoutMs !== undefined) checkNumber('timeoutMs', o.timeoutMs, { min: 1 })
    if (o.maxRetries !== undefined) checkNumber('maxRetries', o.maxRetries, { integer: true, max: 100 })
    if (o.maxRetryWaitMs !== undefined) checkNumber('maxRetryWaitMs', o.maxRetryWaitMs)
    if (o.retryBaseDelayMs !== undefined) checkNumber('retryBaseDelayMs', o.retryBaseDelayMs)
    if (o.maxResponseBytes !== undefined) checkNumber('maxResponseBytes', o.maxResponseBytes, { integer: true, min: 1 })
    if (o.maxConnections !== undefined) checkNumber('maxConnections', o.maxConnections, { integer: true })
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

  /** Which app controls the thread, or null when it is idle. */
  async threadOwner(psid, options) {
    checkString('psid', psid)
    const { signal } = readOptions('options', options, ['signal'])
    const owner = await run(signal, (t) => this.#native.threadOwner(psid, t))
    return owner ?? null
  }

  /** Passes the thread to another app (`targetAppId`, digits only). */
  async passThreadControl(psid, targetAppId, options) {
    checkString('psid', psid)
    checkString('targetAppId', targetAppId)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    await run(signal, (t) => this.#native.passThreadControl(psid, targetAppId, metadata ?? undefined, t))
  }

  /** Hands the chat to the people answering in the Page Inbox. */
  async passThreadControlToPageInbox(psid, options) {
    checkString('psid', psid)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    await run(signal, (t) => this.#native.passThreadControlToPageInbox(psid, metadata ?? undefined, t))
  }

  async takeThreadControl(psid, options) {
    checkString('psid', psid)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    await run(signal, (t) => this.#native.takeThreadControl(psid, metadata ?? undefined, t))
  }

  async requestThreadControl(psid, options) {
    checkString('psid', psid)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    await run(signal, (t) => this.#native.requestThreadControl(psid, metadata ?? undefined, t))
  }

  async releaseThreadControl(psid, options) {
    checkString('psid', psid)
    const { signal, metadata } = readOptions('options', options, ['signal', 'metadata'])
    await run(signal, (t) => this.#native.releaseThreadControl(psid, metadata ?? undefined, t))
  }

  /** Extends the owner's control (Conversation Routing) by whole seconds. */
  async extendThreadControl(psid, durationSeconds, options) {
    checkString('psid', psid)
    checkNumber('durationSeconds', durationSeconds, { integer: true })
    const { signal } = readOptions('options', options, ['signal'])
    await run(signal, (t) => this.#native.extendThreadControl(psid, durationSeconds, t))
  }

  /** The apps holding a role on the Page besides the caller: `[{ id, name }]`. */
  async secondaryReceivers(options) {
    const { signal } = readOptions('options', options, ['signal'])
    return run(signal, (t) => this.#native.secondaryReceivers(t))
  }

  /**
   * The Page's conversations. Arguments are checked now; nothing is sent
   * until the first item or page is asked for.
   */
  conversations(options) {
    const o = readOptions('options', options, CONVERSATIONS_OPTIONS)
    for (const k of ['folder', 'platform', 'userId', 'after']) checkOptionalString(k, o[k])
    if (o.tags !== undefined && o.tags !== null) checkStringArray('tags', o.tags)
    if (o.fields !== undefined && o.fields !== null) checkStringArray('fields', o.fields)
    if (o.pageSize !== undefined && o.pageSize !== null) checkNumber('pageSize', o.pageSize, { integer: true })
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

/** The Page Inbox app: passing a thread to it hands the chat to humans. */
const PAGE_INBOX_APP_ID = native.PAGE_INBOX_APP_ID

module.exports = {
  Client,
  Conversations,
  PAGE_INBOX_APP_ID,
  version: native.nativeVersion(),
  HandoverError: errors.HandoverError,
  GraphApiError: errors.GraphApiError,
  InvalidParameterError: errors.InvalidParameterError,
  AuthError: errors.AuthError,
  PermissionDeniedError: errors.PermissionDeniedError,
  ThreadControlError: errors.ThreadControlError,
  RateLimitError: errors.RateLimitError,
  BlockedError: errors.BlockedError,
  ServerError: errors.ServerError,
  TransportError: errors.TransportError,
  TimeoutError: errors.TimeoutError,
  ProtocolError: errors.ProtocolError,
  WebhookError: errors.WebhookError,
  verifySignature: webhooks.verifySignature,
  verifySubscription: webhooks.verifySubscription,
  parseEvents: webhooks.parseEvents,
  signWebhookBody: webhooks.signWebhookBody,
  createWebhookHandler: webhooks.createWebhookHandler,
}
