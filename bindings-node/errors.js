'use strict'
// The error classes of messenger-handover. The native addon reports every
// failure as a tagged JSON payload; `fromNative` turns it into one of these
// (or into a TypeError/RangeError for bad arguments, a DOMException named
// AbortError for aborted calls). Each class has a stable `kind`, the same
// string in Rust, Python and Node.

const PAYLOAD_PREFIX = '\u0001mh-error:'

/** The base of every error this package raises on purpose. */
class HandoverError extends Error {
  constructor(message, fields = {}, options) {
    super(message, options)
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true, writable: true })
    this.kind = fields.kind ?? 'unknown'
  }
}

/** An error the Graph API returned: code, subcode, type, fbtraceId, ... */
class GraphApiError extends HandoverError {
  constructor(message, fields = {}, options) {
    super(message, fields, options)
    this.code = fields.code ?? null
    this.subcode = fields.subcode ?? null
    this.type = fields.type ?? null
    this.fbtraceId = fields.fbtraceId ?? null
    this.httpStatus = fields.httpStatus ?? null
    this.isTransient = fields.isTransient ?? false
    this.graphMessage = fields.graphMessage ?? null
    this.userTitle = fields.userTitle ?? null
    this.userMessage = fields.userMessage ?? null
  }
}

/** 100 and any other code the Graph API answers HTTP 400 with. */
class InvalidParameterError extends GraphApiError {}
/** 102, 190: the token is invalid, expired or revoked. */
class AuthError extends GraphApiError {}
/** 3, 10, 200-299, 551: the app or token lacks a permission. */
class PermissionDeniedError extends GraphApiError {}
/** The thread is not this app's to act on (not owner, idle, ...). */
class ThreadControlError extends GraphApiError {}
/** Throttled: `retryAfter` (seconds) says when to try again, `usage` why. */
class RateLimitError extends GraphApiError {
  constructor(message, fields = {}, options) {
    super(message, fields, options)
    this.retryAfter = fields.retryAfter ?? null
    this.usage = fields.usage ?? null
  }
}
/** 368: the Page or app is blocked from this action. */
class BlockedError extends GraphApiError {}
/** 1, 2, 1200, `is_transient`, HTTP 5xx: the Graph API failed. */
class ServerError extends GraphApiError {}

/** The connection failed, was reset, or timed out. */
class TransportError extends HandoverError {
  constructor(message, fields = {}, options) {
    super(message, fields, options)
    this.code = fields.code ?? null
  }
}
/** No answer within the client's timeout. */
class TimeoutError extends TransportError {}
/** The answer was not what the endpoint promises (an HTML page, cut JSON). */
class ProtocolError extends HandoverError {
  constructor(message, fields = {}, options) {
    super(message, fields, options)
    this.httpStatus = fields.httpStatus ?? null
  }
}
/** A webhook request that cannot be accepted (bad handshake, malformed body). */
class WebhookError extends HandoverError {
  constructor(message, fields = {}, options) {
    super(message, fields, options)
    this.reason = fields.reason ?? null
  }
}

const GRAPH_CLASSES = {
  invalid_parameter: InvalidParameterError,
  auth: AuthError,
  permission: PermissionDeniedError,
  thread_control: ThreadControlError,
  rate_limit: RateLimitError,
  blocked: BlockedError,
  server: ServerError,
}

// The core names arguments as Rust does; users wrote the JavaScript names.
const ARGUMENT_NAMES = {
  access_token: 'accessToken',
  page_id: 'pageId',
  app_secret: 'appSecret',
  api_version: 'apiVersion',
  base_url: 'baseUrl',
  timeout: 'timeoutMs',
  target_app_id: 'targetAppId',
  duration: 'durationSeconds',
  page_size: 'pageSize',
  user_id: 'userId',
}
// Arguments whose failures are about size, not shape.
const RANGE_ARGUMENTS = new Set([
  'durationSeconds',
  'pageSize',
  'metadata',
  'timeoutMs',
  'maxRetries',
  'maxRetryWaitMs',
  'retryBaseDelayMs',
  'maxResponseBytes',
  'maxConnections',
])

function jsArgumentName(name) {
  if (typeof name !== 'string') return 'argument'
  return ARGUMENT_NAMES[name] ?? name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
}

/** A TypeError or RangeError that names the argument, as Node's own do. */
function invalidArgument(argument, message, { range = undefined } = {}) {
  const name = jsArgumentName(argument)
  const isRange = range ?? RANGE_ARGUMENTS.has(name)
  const err = isRange
    ? new RangeError(`The "${name}" argument ${message}`)
    : new TypeError(`The "${name}" argument ${message}`)
  err.code = isRange ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_VALUE'
  err.argument = name
  err.kind = 'invalid_input'
  return err
}

function abortError(signal) {
  const reason = signal ? signal.reason : undefined
  return new DOMException('This operation was aborted', { name: 'AbortError', cause: reason })
}

function parsePayload(err) {
  if (!err || typeof err.message !== 'string' || !err.message.startsWith(PAYLOAD_PREFIX)) return null
  try {
    return JSON.parse(err.message.slice(PAYLOAD_PREFIX.length))
  } catch {
    return null
  }
}

/** Turns an error from the native addon into the class it stands for. */
function fromNative(err) {
  const p = parsePayload(err)
  if (p === null) return err
  const msg = p.message ?? 'unknown error'
  switch (p.kind) {
    case 'invalid_input':
      return invalidArgument(p.argument, msg)
    case 'aborted':
      return abortError()
    case 'transport': {
      const Cls = p.timeout ? TimeoutError : TransportError
      const code = p.timeout ? 'ETIMEDOUT' : p.connect ? 'ECONNREFUSED' : 'ECONNRESET'
      return new Cls(msg, { kind: 'transport', code })
    }
    case 'protocol':
      return new ProtocolError(msg, p)
    case 'webhook':
      return new WebhookError(msg, p)
    case 'state': {
      const e = new Error(msg)
      e.code = 'ERR_INVALID_STATE'
      return e
    }
    case 'io':
      return new Error(msg)
    default: {
      const Cls = GRAPH_CLASSES[p.kind]
      if (Cls) return new Cls(msg, p)
      return new HandoverError(msg, p)
    }
  }
}

module.exports = {
  HandoverError,
  GraphApiError,
  InvalidParameterError,
  AuthError,
  PermissionDeniedError,
  ThreadControlError,
  RateLimitError,
  BlockedError,
  ServerError,
  TransportError,
  TimeoutError,
  ProtocolError,
  WebhookError,
  fromNative,
  invalidArgument,
  abortError,
}
