'use strict'
// What the core tells about each HTTP attempt, for Node: a diagnostics_channel
// TracingChannel `messenger-handover:request` (start, end, and error for a
// failed attempt; the context holds the OpenTelemetry attributes:
// http.request.method, url.path, server.address, server.port,
// http.request.resend_count, http.response.status_code, error.type,
// graph.fbtrace_id, graph.usage.*) and `NODE_DEBUG=messenger-handover`, one
// line per attempt, retry and throttle wait through util.debuglog.
//
// The attempt runs in the core, off the JS thread: its messages arrive in
// order (start, then error if it failed, then end) on the event loop. Nothing
// is produced, and the core pays one atomic load, while nobody subscribes and
// NODE_DEBUG does not name us: `sync()` (before every call) tells the core.
//
// Per environment: this module loads once in the main thread and once in each
// worker_threads Worker that requires the package, and registers that
// environment's sink; a client's calls publish to the channel (and print to
// the NODE_DEBUG) of the thread that made the call.

const dc = require('node:diagnostics_channel')
const { debuglog } = require('node:util')
const native = require('./native.js')

const channel = dc.tracingChannel('messenger-handover:request')
const debug = debuglog('messenger-handover')
const debugOn = debug.enabled

// Attempt id -> the context its start was published with (subscribers keep
// state on it between start and end).
const open = new Map()
let level = -1

function subscribed() {
  return channel.start.hasSubscribers || channel.end.hasSubscribers || channel.error.hasSubscribers
}

/** Tells the core what is listening now; cheap when nothing changed. */
function sync() {
  const want = subscribed() ? 5 : debugOn ? 4 : 0
  if (want !== level) {
    level = want
    native.setObserveLevel(want)
  }
}

function onEvent(event) {
  const attrs = event.attributes
  const id = attrs['graph.attempt_id']
  delete attrs['graph.attempt_id']
  if (event.kind === 'http.attempt.start') {
    const context = { ...attrs }
    open.set(id, context)
    channel.start.publish(context)
    return
  }
  if (debugOn) debug('%s', event.message)
  if (event.kind !== 'http.attempt.end' || level < 5) return
  const context = open.get(id) ?? {}
  open.delete(id)
  Object.assign(context, attrs)
  if (attrs['error.type'] !== undefined) {
    context.error = Object.assign(new Error(event.message), { kind: attrs['error.type'] })
    channel.error.publish(context)
  }
  channel.end.publish(context)
}

native.observe(onEvent)
sync()

module.exports = { channel, sync }
