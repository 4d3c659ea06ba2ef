// Public types of messenger-handover, over the generated native ones
// (native.d.ts, checked for drift by `make test-node`).
import type { App, Conversation, Participant, ThreadOwner, UsageInfo, UsageFigures, BusinessUseCaseUsage } from './native'

export type { App, Conversation, Participant, ThreadOwner, UsageInfo, UsageFigures, BusinessUseCaseUsage }
export * from './errors'
export {
  verifySignature,
  verifySubscription,
  parseEvents,
  signWebhookBody,
  createWebhookHandler,
  WebhookEvent,
  PassThreadControlEvent,
  TakeThreadControlEvent,
  RequestThreadControlEvent,
  AppRolesEvent,
  MessageEvent,
  StandbyEvent,
  OtherEvent,
  WebhookHandlerOptions,
  RawBody,
} from './webhooks'

export interface ClientOptions {
  /** A Page access token. Sent as `Authorization: Bearer`, never shown. */
  accessToken: string
  /** Default `me`: the Page the token belongs to. */
  pageId?: string
  /** Adds `appsecret_proof` to every call. */
  appSecret?: string
  /** Default `v26.0`. */
  apiVersion?: string
  /** Default `https://graph.facebook.com`; plain http only to loopback. */
  baseUrl?: string
  /** Whole-call timeout; default 30 000. */
  timeoutMs?: number
  /** Default 3. */
  maxRetries?: number
  /** A throttled call that would wait longer fails at once; default 60 000. */
  maxRetryWaitMs?: number
  /** The first backoff step; default 250. */
  retryBaseDelayMs?: number
  /** Larger answers are refused; default 16 MiB. */
  maxResponseBytes?: number
  /** Connections in flight at once; calls beyond it wait. Default 100. */
  maxConnections?: number
}

export interface CallOptions {
  /** Aborting rejects the call with a DOMException named AbortError. */
  signal?: AbortSignal
}

export interface ControlOptions extends CallOptions {
  /** Passed to the other app with the event (at most 1000 characters). */
  metadata?: string
}

export type Folder = 'inbox' | 'other' | 'page_done' | 'spam'
export type Platform = 'messenger' | 'instagram'

export interface ConversationsOptions extends CallOptions {
  folder?: Folder
  platform?: Platform
  userId?: string
  tags?: string[]
  /** Graph field expressions, e.g. `participants{name}`, `messages.limit(1)`. */
  fields?: string[]
  /** 1 to 100. */
  pageSize?: number
  /** Resume after this cursor (`conversations.after` of an earlier run). */
  after?: string
}

export interface ConversationPage {
  items: Conversation[]
  /** This page's cursor (kept even on the last page). */
  after: string | null
  hasNext: boolean
}

/** `for await` item by item, `pages()` page by page, `after` to resume. */
export declare class Conversations implements AsyncIterable<Conversation> {
  private constructor()
  /** The cursor after the last page read. */
  readonly after: string | null
  readonly closed: boolean
  nextPage(options?: CallOptions): Promise<ConversationPage | null>
  pages(options?: CallOptions): AsyncGenerator<ConversationPage, void, undefined>
  [Symbol.asyncIterator](): AsyncGenerator<Conversation, void, undefined>
  /** Stops paging; a page being prefetched is cancelled. */
  close(): void
}

/** A Messenger thread-control and conversations client for one Page. */
export declare class Client {
  constructor(options: ClientOptions)
  readonly pageId: string | null
  readonly apiVersion: string | null
  readonly baseUrl: string | null
  readonly closed: boolean
  /** The usage headers of the last response that carried any. */
  readonly lastUsage: UsageInfo | null
  /** Which app controls the thread, or null when it is idle. */
  threadOwner(psid: string, options?: CallOptions): Promise<ThreadOwner | null>
  passThreadControl(psid: string, targetAppId: string, options?: ControlOptions): Promise<void>
  passThreadControlToPageInbox(psid: string, options?: ControlOptions): Promise<void>
  takeThreadControl(psid: string, options?: ControlOptions): Promise<void>
  requestThreadControl(psid: string, options?: ControlOptions): Promise<void>
  releaseThreadControl(psid: string, options?: ControlOptions): Promise<void>
  /** Conversation Routing: keep control for `durationSeconds` (1 s to 7 days). */
  extendThreadControl(psid: string, durationSeconds: number, options?: CallOptions): Promise<void>
  secondaryReceivers(options?: CallOptions): Promise<App[]>
  conversations(options?: ConversationsOptions): Conversations
  close(): void
  toJSON(): { pageId: string | null; apiVersion: string | null; baseUrl: string | null }
}

/** The Page Inbox app id (263902037430900). */
export declare const PAGE_INBOX_APP_ID: string
/** The version of the native addon. */
export declare const version: string
