'use strict'
// messenger-handover/testing: the local Graph API emulator (stateful, with
// fault injection, rate limits, webhooks and a request log) and the strict
// scripted server the conformance vectors run against. Both bind 127.0.0.1
// and run on the addon's own threads: they never keep the process alive.

const { inspect } = require('node:util')
const native = require('./native.js')
const { Client } = require('./index.js')
const { fromNative, invalidArgument, checkString, describe, shownName } = require('./errors.js')

function snake(key) {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

function camel(key) {
  return key.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
}

/** Renames an object's own keys (one level) to snake_case. */
function snakeKeys(obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return obj
  const out = {}
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[snake(k)] = v
  return out
}

function camelKeys(obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return obj
  const out = {}
  for (const [k, v] of Object.entries(obj)) out[camel(k)] = v
  return out
}

function checkObject(name, value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument(name, 'must be an object', { range: false })
  }
}

const ROLES = {
  primary: 'primary',
  secondary: 'secondary',
  pageInbox: 'page_inbox',
  page_inbox: 'page_inbox',
  instagramInbox: 'instagram_inbox',
  instagram_inbox: 'instagram_inbox',
}

function roleName(app) {
  const r = Object.hasOwn(ROLES, app) ? ROLES[app] : undefined
  if (r === undefined) {
    const shown = shownName(app) ?? `${describe(app)} (not shown)`
    throw invalidArgument('app', `must be "primary", "secondary", "pageInbox" or "instagramInbox"; received ${shown}`, { range: false })
  }
  return r
}

function checkCount(name, value, max) {
  if (!Number.isSafeInteger(value)) throw invalidArgument(name, 'must be an integer', { range: false })
  if (value < 0 || value > max) throw invalidArgument(name, `must be between 0 and ${max}`, { range: true })
}

/** Graph's `2026-11-22T12:00:00+0000` as a Date. */
function graphTime(s) {
  return new Date(s.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))
}

/** One app's identity on the emulated Page; inspect and JSON hide the secrets. */
class AppCredentials {
  #token
  #secret

  constructor(c) {
    this.appId = c.appId
    this.#token = c.token
    this.#secret = c.secret
  }

  /** The app's Page access token. */
  get token() {
    return this.#token
  }

  /** The app secret (signs webhooks, keys appsecret_proof). */
  get secret() {
    return this.#secret
  }

  toJSON() {
    return { appId: this.appId }
  }

  [inspect.custom](depth, opts, insp = inspect) {
    return `AppCredentials ${insp({ appId: this.appId, token: '[redacted]', secret: '[redacted]' }, opts)}`
  }
}

/**
 * A stateful local Graph API for the thread-control and conversations
 * endpoints. `await Emulator.start({ conversations: 500, mode: 'routing' })`.
 */
class Emulator {
  #native
  #apps

  constructor(nativeEmulator) {
    if (!(nativeEmulator instanceof native.NativeEmulator)) {
      throw new TypeError('use `await Emulator.start(options)` to start an emulator')
    }
    this.#native = nativeEmulator
    this.#apps = {
      primary: new AppCredentials(nativeEmulator.app('primary')),
      secondary: new AppCredentials(nativeEmulator.app('secondary')),
      pageInbox: new AppCredentials(nativeEmulator.app('pageInbox')),
      instagramInbox: new AppCredentials(nativeEmulator.app('instagramInbox')),
    }
  }

  /**
   * Starts an emulator on 127.0.0.1. Options: `port` (0: a free one),
   * `conversations` (how many to generate), `mode` ('handover' or
   * 'routing'), `rateLimit` ({ enabled, maxCalls, windowSecs, code,
   * regainMinutes }), `logRequests`, `defaultApp` (Conversation Routing's
   * default app, 'primary' by default; null: none, take then answers #27),
   * `featureStatus` ({ hopV2, msgrMultiApp, igMultiApp }),
   * `conversationsPerSecond` (the conversations edge's pacing, 0: off),
   * `logCapacity` (requests the log keeps), `headerReadTimeoutMs`.
   */
  static async start(options = {}) {
    if (options === null || typeof options !== 'object') checkObject('options', options)
    const cfg = snakeKeys(options)
    if (cfg.rate_limit !== undefined) cfg.rate_limit = snakeKeys(cfg.rate_limit)
    if (cfg.feature_status !== undefined) cfg.feature_status = snakeKeys(cfg.feature_status)
    if (cfg.default_app !== undefined && cfg.default_app !== null) cfg.default_app = roleName(cfg.default_app)
    try {
      return new Emulator(await native.startEmulator(cfg))
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** `http://127.0.0.1:PORT`: the `baseUrl` for a Client. */
  get url() {
    return this.#native.url
  }

  get port() {
    return this.#native.port
  }

  get pageId() {
    return this.#native.pageId
  }

  /** The primary receiver app (the bot). */
  get primary() {
    return this.#apps.primary
  }

  /** The secondary receiver app. */
  get secondary() {
    return this.#apps.secondary
  }

  /** The Page Inbox app (263902037430900). */
  get pageInbox() {
    return this.#apps.pageInbox
  }

  /** The Instagram Inbox app (1217981644879628). */
  get instagramInbox() {
    return this.#apps.instagramInbox
  }

  get stopped() {
    return this.#native.stopped
  }

  #call(f) {
    try {
      return f()
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** Every request seen (tokens never stored), oldest first. */
  requestLog() {
    return this.#call(() => this.#native.requestLog()).map(camelKeys)
  }

  clearRequestLog() {
    this.#call(() => this.#native.clearRequestLog())
  }

  /**
   * Queues a fault: `{ match: { method, pathContains, inBatch, batchIndex }, count, action: { type:
   * 'status' | 'graph_error' | 'delay' | 'reset' | 'reset_mid_body' | 'malformed' | 'null_item', ... } }`.
   * `null_item` hits operations inside a batch request only: the operation's slot
   * is `null` (with `applied: true` it ran first). `inBatch` true/false limits a
   * fault to batch operations / plain requests; `batchIndex` picks one operation.
   */
  injectFault(fault) {
    checkObject('fault', fault)
    const spec = snakeKeys(fault)
    if (spec.match !== undefined) spec.match = snakeKeys(spec.match)
    if (spec.action !== undefined) {
      checkObject('fault.action', spec.action)
      const { error, headers, ...rest } = spec.action
      spec.action = snakeKeys(rest)
      if (error !== undefined) spec.action.error = error
      if (headers !== undefined) spec.action.headers = headers
    }
    this.#call(() => this.#native.injectFault(spec))
  }

  clearFaults() {
    this.#call(() => this.#native.clearFaults())
  }

  /** `{ enabled, maxCalls, windowSecs, code (613 or 80006), regainMinutes }`. */
  setRateLimit(config) {
    checkObject('config', config)
    this.#call(() => this.#native.setRateLimit(snakeKeys(config)))
  }

  /** At most `perSecond` conversations calls in any one second (613 beyond); 0: off. */
  setConversationsPacing(perSecond) {
    checkCount('perSecond', perSecond, 0xffffffff)
    this.#call(() => this.#native.setConversationsPacing(perSecond))
  }

  /** How many requests the log keeps (the oldest are dropped first). */
  setLogCapacity(capacity) {
    checkCount('capacity', capacity, 0xffffffff)
    this.#call(() => this.#native.setLogCapacity(capacity))
  }

  /** Every conversation, newest first: `{ id, folder, platform, updatedTime, messageCount, userId }`. */
  conversations() {
    return this.#call(() => this.#native.conversations()).map(camelKeys)
  }

  /**
   * A new message arrives in a conversation: it becomes the newest and moves to
   * the top of its folder (a walk in progress sees it again). Its summary.
   */
  bumpConversation(id, text) {
    checkString('id', id)
    if (text !== undefined && text !== null) checkString('text', text)
    return camelKeys(this.#call(() => this.#native.bumpConversation(id, text ?? undefined)))
  }

  /** The emulated clock (thread expirations, message times). */
  now() {
    return graphTime(this.#call(() => this.#native.now()))
  }

  /** Moves the emulated clock forward by `seconds` (never back); the new time. */
  advanceClock(seconds) {
    checkCount('seconds', seconds, 10 * 365 * 86400)
    return graphTime(this.#call(() => this.#native.advanceClock(seconds)))
  }

  /** Conversation Routing's default app, or null for none (take then answers #27). */
  setDefaultApp(app) {
    const role = app === null ? null : roleName(app)
    this.#call(() => this.#native.setDefaultApp(role ?? undefined))
  }

  /** What `GET /{page}?fields=messaging_feature_status` answers: `{ hopV2, msgrMultiApp, igMultiApp }`. */
  setFeatureStatus(status) {
    checkObject('status', status)
    this.#call(() => this.#native.setFeatureStatus(snakeKeys(status)))
  }

  /** Threads, faults, log and counters back to the start. */
  reset() {
    this.#call(() => this.#native.reset())
  }

  /** Threads and owners, as the emulator sees them. */
  state() {
    return this.#call(() => this.#native.state())
  }

  /** Registers (or with null removes) an app's webhook callback URL. */
  setWebhook(app, url) {
    const role = roleName(app)
    if (url !== null && url !== undefined) checkString('url', url)
    this.#call(() => this.#native.setWebhook(role, url ?? undefined))
  }

  /** A user writes on a thread; resolves once the webhooks were delivered. */
  async simulateMessage(psid, text) {
    checkString('psid', psid)
    checkString('text', text)
    try {
      await this.#native.simulateMessage(psid, text)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /**
   * A Page admin makes `app` the primary receiver (the default app in routing
   * mode); resolves once each app whose role changed got its `app_roles` webhook.
   */
  async setPrimaryReceiver(app) {
    const role = roleName(app)
    try {
      await this.#native.setPrimaryReceiver(role)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** A Client for one of the apps (`primary` by default), aimed at this emulator. */
  client(app = 'primary', options = {}) {
    if (app !== null && typeof app === 'object') {
      options = app
      app = 'primary'
    }
    const creds = this.#apps[app === 'page_inbox' ? 'pageInbox' : app === 'instagram_inbox' ? 'instagramInbox' : app]
    if (creds === undefined) roleName(app)
    return new Client({ accessToken: creds.token, pageId: this.pageId, baseUrl: this.url, ...options })
  }

  /** Stops the server (idempotent). */
  async stop() {
    await this.#native.stop()
  }

  async [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    await this.stop()
  }

  [inspect.custom](depth, opts, insp = inspect) {
    return `Emulator ${insp({ url: this.url, pageId: this.pageId, stopped: this.stopped }, opts)}`
  }
}

/**
 * A tiny strict server: records every request and answers each with the
 * next queued response. The shared conformance vectors run against it.
 */
class ScriptedServer {
  #native

  constructor(nativeServer) {
    if (!(nativeServer instanceof native.NativeScriptedServer)) {
      throw new TypeError('use `await ScriptedServer.start()` to start a scripted server')
    }
    this.#native = nativeServer
  }

  static async start() {
    try {
      return new ScriptedServer(await native.startScriptedServer())
    } catch (e) {
      throw fromNative(e)
    }
  }

  get url() {
    return this.#native.url
  }

  /** Queues `{ status, headers, body }` (body: a string, served byte for byte). */
  pushResponse(response) {
    checkObject('response', response)
    const { status = 200, headers = {}, body = '' } = response
    try {
      this.#native.pushResponse({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** What arrived: `{ method, path, query: [[k, v], ...], headers, body }`. */
  requests() {
    return this.#native.requests()
  }

  clear() {
    this.#native.clear()
  }

  async stop() {
    await this.#native.stop()
  }

  async [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    await this.stop()
  }
}

module.exports = { Emulator, ScriptedServer, AppCredentials }
