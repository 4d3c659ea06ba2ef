'use strict'
// Webhooks: signature check, subscription handshake, typed events, and a
// handler usable with plain node:http or as Express-style middleware.

const native = require('./native.js')
const { fromNative, invalidArgument, checkString, WebhookError } = require('./errors.js')

function toBody(name, rawBody) {
  if (typeof rawBody === 'string' || Buffer.isBuffer(rawBody)) return rawBody
  if (rawBody instanceof Uint8Array) return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength)
  if (rawBody instanceof ArrayBuffer) return Buffer.from(rawBody)
  throw invalidArgument(name, 'must be the raw body: a Buffer, Uint8Array or string', { range: false })
}

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>` against the raw body, in
 * constant time. A missing, malformed or wrong header is `false`; an empty
 * `appSecret` throws a TypeError (anyone could sign with it).
 */
function verifySignature(appSecret, rawBody, header) {
  checkString('appSecret', appSecret)
  const body = toBody('rawBody', rawBody)
  if (Array.isArray(header)) header = header[0]
  try {
    return native.verifySignature(appSecret, body, typeof header === 'string' ? header : null)
  } catch (e) {
    throw fromNative(e)
  }
}

/** The core's rule: an empty app secret or verify token is refused. */
function checkSecret(name, value) {
  try {
    native.checkWebhookSecret(name, value)
  } catch (e) {
    throw fromNative(e)
  }
}

/** The `X-Hub-Signature-256` value Meta would send for this body. */
function signWebhookBody(appSecret, rawBody) {
  checkString('appSecret', appSecret)
  return native.signWebhookBody(appSecret, toBody('rawBody', rawBody))
}

function paramsObject(params) {
  if (typeof params === 'string') params = new URLSearchParams(params.startsWith('?') ? params.slice(1) : params)
  if (params instanceof URL) params = params.searchParams
  const out = {}
  if (params instanceof URLSearchParams || params instanceof Map) {
    for (const [k, v] of params) if (typeof v === 'string') out[k] = v
    return out
  }
  if (params !== null && typeof params === 'object') {
    for (const [k, v] of Object.entries(params)) {
      if (typeof v === 'string') out[k] = v
      else if (Array.isArray(v) && typeof v[0] === 'string') out[k] = v[0]
    }
    return out
  }
  throw invalidArgument('params', 'must be the query: an object, URLSearchParams, URL or query string', {
    range: false,
  })
}

/**
 * Answers the GET handshake (`hub.mode=subscribe`, `hub.verify_token`,
 * `hub.challenge`): returns the challenge to echo back, or throws a
 * WebhookError saying why not.
 */
function verifySubscription(params, verifyToken) {
  checkString('verifyToken', verifyToken)
  try {
    return native.verifySubscription(paramsObject(params), verifyToken)
  } catch (e) {
    throw fromNative(e)
  }
}

/**
 * Every event of every entry of a webhook batch, typed by `type`:
 * pass_thread_control, take_thread_control, request_thread_control,
 * app_roles, message (and its echo), standby (wrapping the typed inner event),
 * other. Each has pageId, psid and timestamp (a Date).
 */
function parseEvents(rawBody) {
  let events
  try {
    events = native.parseEvents(toBody('rawBody', rawBody))
  } catch (e) {
    throw fromNative(e)
  }
  const dated = (e) => {
    e.timestamp = typeof e.timestamp === 'number' ? new Date(e.timestamp) : null
    if (e.type === 'standby') dated(e.event)
    return e
  }
  return events.map(dated)
}

function readRawBody(req, limit, timeoutMs) {
  // Frameworks that already read it: express.raw() leaves a Buffer in
  // req.body; others keep req.rawBody.
  if (Buffer.isBuffer(req.rawBody)) return Promise.resolve(req.rawBody)
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body)
  if (typeof req.body === 'string') return Promise.resolve(Buffer.from(req.body))
  if (req.body !== undefined && req.body !== null && typeof req.body === 'object') {
    return Promise.reject(
      new WebhookError(
        'the request body was already parsed as JSON; the signature needs the raw bytes (use express.raw({ type: "application/json" }) before this handler)',
        { kind: 'webhook', reason: 'raw_body_required' },
      ),
    )
  }
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    const finish = (err, body) => {
      clearTimeout(timer)
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.removeListener('error', finish)
      if (err) reject(err)
      else resolve(body)
    }
    const tooLarge = () =>
      finish(new WebhookError(`the body is larger than ${limit} bytes`, { kind: 'webhook', reason: 'too_large' }))
    // A client that sends the headers and then trickles (or stalls) the
    // body must not hold the handler and its buffers forever.
    const timer = setTimeout(
      () =>
        finish(
          new WebhookError(`the body did not arrive within ${timeoutMs} ms`, { kind: 'webhook', reason: 'body_timeout' }),
        ),
      timeoutMs,
    )
    const onData = (c) => {
      size += c.length
      if (size > limit) return tooLarge()
      chunks.push(c)
    }
    const onEnd = () => finish(null, Buffer.concat(chunks))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', finish)
    if (Number(req.headers['content-length']) > limit) tooLarge()
  })
}

/**
 * Answers a body that was refused: 413 too large, 408 too slow. After a 413
 * the rest of the body is read and discarded (Node does that once the
 * answer is sent), so the client reads the answer instead of a reset while
 * it is still writing; a body that still has not ended `drainMs` later
 * loses its connection. A 408 closes the connection at once.
 */
function refuseBody(req, res, status, text, drainMs) {
  if (drainMs === 0) res.setHeader('connection', 'close')
  res.on('finish', () => {
    const cut = setTimeout(() => {
      if (!req.complete) req.destroy()
    }, drainMs)
    req.once('close', () => clearTimeout(cut))
  })
  send(res, status, text)
}

function send(res, status, text) {
  if (res.headersSent) return
  res.statusCode = status
  res.setHeader('content-type', 'text/plain; charset=utf-8')
  res.end(text)
}

/**
 * A request handler that does all three: answers the GET handshake, checks
 * the signature of each POST against the raw body, parses every event and
 * hands them to `onEvent(event, req)` (awaited, in order) or
 * `onEvents(events, req)`. Works as `http.createServer(handler)` and as
 * Express-style middleware (`app.post('/webhook', express.raw({type: '*\/*'}), handler)`).
 */
function createWebhookHandler(options) {
  if (options === null || typeof options !== 'object') {
    throw invalidArgument('options', 'must be an object with appSecret and verifyToken', { range: false })
  }
  const {
    appSecret,
    verifyToken,
    onEvent,
    onEvents,
    onError,
    maxBodyBytes = 16 * 1024 * 1024,
    bodyTimeoutMs = 30_000,
  } = options
  checkString('appSecret', appSecret)
  checkSecret('appSecret', appSecret)
  if (verifyToken !== undefined) {
    checkString('verifyToken', verifyToken)
    checkSecret('verifyToken', verifyToken)
  }
  for (const [name, value] of [
    ['maxBodyBytes', maxBodyBytes],
    ['bodyTimeoutMs', bodyTimeoutMs],
  ]) {
    if (typeof value !== 'number' || !(value > 0)) throw invalidArgument(name, 'must be a positive number', { range: true })
  }
  if (onEvent !== undefined && typeof onEvent !== 'function') throw invalidArgument('onEvent', 'must be a function', { range: false })
  if (onEvents !== undefined && typeof onEvents !== 'function') throw invalidArgument('onEvents', 'must be a function', { range: false })

  return async function webhookHandler(req, res, next) {
    try {
      if (req.method === 'GET') {
        if (verifyToken === undefined) return send(res, 404, 'no subscription handshake configured')
        const url = new URL(req.originalUrl ?? req.url ?? '/', 'http://localhost')
        let challenge
        try {
          challenge = verifySubscription(url.searchParams, verifyToken)
        } catch (e) {
          return send(res, 403, e instanceof WebhookError ? e.message : 'forbidden')
        }
        return send(res, 200, challenge)
      }
      if (req.method !== 'POST') {
        if (typeof next === 'function') return next()
        res.setHeader('allow', 'GET, POST')
        return send(res, 405, 'method not allowed')
      }
      let body
      try {
        body = await readRawBody(req, maxBodyBytes, bodyTimeoutMs)
      } catch (e) {
        if (e instanceof WebhookError && e.reason === 'too_large') {
          return refuseBody(req, res, 413, e.message, bodyTimeoutMs)
        }
        if (e instanceof WebhookError && e.reason === 'body_timeout') {
          return refuseBody(req, res, 408, e.message, 0)
        }
        throw e
      }
      // 403, as the Python WebhookHandler answers: the request is understood
      // and refused (401 would ask for credentials the sender cannot give).
      if (!verifySignature(appSecret, body, req.headers['x-hub-signature-256'])) {
        return send(res, 403, 'invalid signature')
      }
      let events
      try {
        events = parseEvents(body)
      } catch (e) {
        return send(res, 400, e instanceof WebhookError ? e.message : 'malformed body')
      }
      if (onEvents) await onEvents(events, req)
      if (onEvent) for (const event of events) await onEvent(event, req)
      return send(res, 200, 'EVENT_RECEIVED')
    } catch (err) {
      if (typeof onError === 'function') {
        try {
          onError(err, req)
        } catch {
          // the reporter must not break the answer
        }
      }
      if (typeof next === 'function' && !res.headersSent) return next(err)
      return send(res, 500, 'webhook handler failed')
    }
  }
}

module.exports = { verifySignature, verifySubscription, parseEvents, signWebhookBody, createWebhookHandler }
