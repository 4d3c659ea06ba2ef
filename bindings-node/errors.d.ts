import type { UsageInfo } from './native'

/** The stable, cross-language name of a failure class. */
export type ErrorKind =
  | 'invalid_parameter'
  | 'auth'
  | 'permission'
  | 'thread_control'
  | 'rate_limit'
  | 'blocked'
  | 'server'
  | 'transport'
  | 'protocol'
  | 'webhook'

/** The base of every error this package raises on purpose. */
export declare class HandoverError extends Error {
  readonly kind: ErrorKind
}

/** An error the Graph API returned. */
export declare class GraphApiError extends HandoverError {
  readonly code: number
  readonly subcode: number | null
  readonly type: string | null
  readonly fbtraceId: string | null
  readonly httpStatus: number
  readonly isTransient: boolean
  /** The Graph API's own message, without the code summary. */
  readonly graphMessage: string | null
  readonly userTitle: string | null
  readonly userMessage: string | null
}

export declare class InvalidParameterError extends GraphApiError {}
export declare class AuthError extends GraphApiError {}
export declare class PermissionDeniedError extends GraphApiError {}
export declare class ThreadControlError extends GraphApiError {}
export declare class RateLimitError extends GraphApiError {
  /** Seconds to wait before trying again, when known. */
  readonly retryAfter: number | null
  /** The usage headers of the throttled response. */
  readonly usage: UsageInfo | null
}
export declare class BlockedError extends GraphApiError {}
export declare class ServerError extends GraphApiError {}

/** The connection failed, was reset, or timed out. */
export declare class TransportError extends HandoverError {
  /** `ECONNREFUSED` (never sent), `ECONNRESET` or `ETIMEDOUT`. */
  readonly code: 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | null
}
export declare class TimeoutError extends TransportError {}

/** The answer was not what the endpoint promises. */
export declare class ProtocolError extends HandoverError {
  readonly httpStatus: number | null
}

/** A webhook request that cannot be accepted. */
export declare class WebhookError extends HandoverError {
  readonly reason: 'subscription' | 'malformed' | 'raw_body_required' | 'too_large' | null
}
