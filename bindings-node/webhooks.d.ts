import type { IncomingMessage, ServerResponse } from 'node:http'

export type RawBody = Buffer | Uint8Array | ArrayBuffer | string

interface EventBase {
  pageId: string
  /** The user's page-scoped id, when the event is about a thread. */
  psid: string | null
  timestamp: Date | null
}

export interface PassThreadControlEvent extends EventBase {
  type: 'pass_thread_control'
  newOwnerAppId: string
  previousOwnerAppId: string | null
  metadata: string | null
}
export interface TakeThreadControlEvent extends EventBase {
  type: 'take_thread_control'
  previousOwnerAppId: string | null
  metadata: string | null
}
export interface RequestThreadControlEvent extends EventBase {
  type: 'request_thread_control'
  requestedOwnerAppId: string
  metadata: string | null
}
export interface AppRolesEvent extends EventBase {
  type: 'app_roles'
  /** App id -> roles. */
  roles: Record<string, string[]>
}
/** A user's message, or the echo of one the Page sent (`isEcho`, `appId` of the sending app). */
export interface MessageEvent extends EventBase {
  type: 'message'
  mid: string | null
  text: string | null
  /** As the Graph API sent them. */
  attachments: unknown[] | null
  isEcho: boolean
  /** The app that sent an echo (263902037430900: a human in the Page Inbox); null for a user's message. */
  appId: string | null
}
/** A copy of an event for an app that does not own the thread, typed as in `messaging`. */
export interface StandbyEvent extends EventBase {
  type: 'standby'
  event: Exclude<WebhookEvent, StandbyEvent>
}
/** Any other event, kept whole. */
export interface OtherEvent extends EventBase {
  type: 'other'
  event: Record<string, unknown>
}
export type WebhookEvent =
  | PassThreadControlEvent
  | TakeThreadControlEvent
  | RequestThreadControlEvent
  | AppRolesEvent
  | MessageEvent
  | StandbyEvent
  | OtherEvent

/** Checks `X-Hub-Signature-256` in constant time; anything wrong is `false`. Throws on an empty `appSecret`. */
export declare function verifySignature(
  appSecret: string,
  rawBody: RawBody,
  header: string | string[] | null | undefined,
): boolean
/** The `X-Hub-Signature-256` value for a body. */
export declare function signWebhookBody(appSecret: string, rawBody: RawBody): string
/** Answers the subscription handshake: the challenge, or a thrown WebhookError (TypeError for an empty `verifyToken`). */
export declare function verifySubscription(
  params: URLSearchParams | URL | string | Map<string, string> | Record<string, string | string[] | undefined>,
  verifyToken: string,
): string
/** Every event of every entry of a batch, in order. */
export declare function parseEvents(rawBody: RawBody): WebhookEvent[]

export interface WebhookHandlerOptions {
  appSecret: string
  /** Enables the GET handshake. */
  verifyToken?: string
  onEvent?: (event: WebhookEvent, req: IncomingMessage) => unknown
  onEvents?: (events: WebhookEvent[], req: IncomingMessage) => unknown
  onError?: (err: unknown, req: IncomingMessage) => void
  /** Larger bodies are answered 413. Default 16 MiB. */
  maxBodyBytes?: number
  /** A body not received in full within this time is answered 408. Default 30 s. */
  bodyTimeoutMs?: number
}

/** A `node:http` handler that is also Express-style middleware (needs the raw body). */
export declare function createWebhookHandler(
  options: WebhookHandlerOptions,
): (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => Promise<void>
