import type { Client, ClientOptions } from './index'
import type { RecordedRequest } from './native'

export type { RecordedRequest }

export type AppName = 'primary' | 'secondary' | 'pageInbox' | 'instagramInbox'

/** One app's identity; inspect and JSON hide the token and secret. */
export declare class AppCredentials {
  private constructor()
  readonly appId: string
  readonly token: string
  readonly secret: string
  toJSON(): { appId: string }
}

export interface RateLimitOptions {
  enabled?: boolean
  maxCalls?: number
  windowSecs?: number
  /** 613 or 80006. */
  code?: number
  regainMinutes?: number
}

export interface EmulatorOptions {
  /** 0 (default): a free port. */
  port?: number
  /** How many conversations to generate (default 120). */
  conversations?: number
  mode?: 'handover' | 'routing'
  rateLimit?: RateLimitOptions
  logRequests?: boolean
  /** Conversation Routing's default app (default 'primary'); null: none, take answers #27. */
  defaultApp?: AppName | null
  /** What `GET /{page}?fields=messaging_feature_status` answers (all true by default). */
  featureStatus?: FeatureStatus
  /** The conversations edge's pacing: at most this many calls per second, 613 beyond (0, the default: off). */
  conversationsPerSecond?: number
  /** How many requests the log keeps, the oldest dropped first (default 10000). */
  logCapacity?: number
  /** A request whose head (or body) has not arrived within this many ms is dropped (default 10000). */
  headerReadTimeoutMs?: number
}

export interface FeatureStatus {
  hopV2?: boolean
  msgrMultiApp?: boolean
  igMultiApp?: boolean
}

/** One conversation as `conversations()` lists it. */
export interface ConversationSummary {
  id: string
  folder: 'inbox' | 'other' | 'page_done' | 'spam'
  platform: 'messenger' | 'instagram'
  updatedTime: string
  messageCount: number
  userId: string
}

export type FaultAction =
  | { type: 'status'; status?: number; body?: string; headers?: Record<string, string> }
  | { type: 'graph_error'; status?: number; error: Record<string, unknown>; headers?: Record<string, string> }
  | { type: 'delay'; ms: number }
  | { type: 'reset' }
  | { type: 'reset_mid_body'; status?: number }
  | { type: 'malformed'; status?: number; body?: string; contentType?: string }
  /** Batch operations only: the operation's slot is `null`; `applied`: it ran first. */
  | { type: 'null_item'; applied?: boolean }

export interface FaultSpec {
  /** `inBatch`: true for batch operations only, false for plain requests only; `batchIndex`: one operation. */
  match?: { method?: string; pathContains?: string; inBatch?: boolean; batchIndex?: number }
  /** How many matching requests it hits (default 1). */
  count?: number
  action: FaultAction
}

export interface LoggedRequest {
  seq: number
  method: string
  path: string
  query: Record<string, string>
  tokenInQuery: boolean
  auth: 'header' | 'query' | 'body' | 'batch' | null
  body: unknown
  app: 'primary' | 'secondary' | 'page_inbox' | 'instagram_inbox' | null
  status: number
  errorCode: number | null
  fault: string | null
  /** The operation's position, for an operation inside a batch request. */
  batchIndex?: number
}

/**
 * A stateful local Graph API; never keeps the process alive. Every all-digit
 * PSID is a user of the Page except one that starts with 0, which answers
 * Graph's "No matching user found" (#100).
 */
export declare class Emulator {
  private constructor()
  static start(options?: EmulatorOptions): Promise<Emulator>
  readonly url: string
  readonly port: number
  readonly pageId: string
  readonly primary: AppCredentials
  readonly secondary: AppCredentials
  readonly pageInbox: AppCredentials
  /** The Instagram Inbox app (1217981644879628). */
  readonly instagramInbox: AppCredentials
  readonly stopped: boolean
  requestLog(): LoggedRequest[]
  clearRequestLog(): void
  injectFault(fault: FaultSpec): void
  clearFaults(): void
  setRateLimit(config: RateLimitOptions): void
  reset(): void
  state(): Record<string, unknown>
  setWebhook(app: AppName, url: string | null): void
  simulateMessage(psid: string, text: string): Promise<void>
  /** A Page admin makes `app` the primary receiver; resolves once the `app_roles` webhooks were delivered. */
  setPrimaryReceiver(app: AppName): Promise<void>
  /** At most `perSecond` conversations calls in any one second (613 beyond); 0: off. */
  setConversationsPacing(perSecond: number): void
  /** How many requests the log keeps (the oldest are dropped first). */
  setLogCapacity(capacity: number): void
  /** Every conversation, newest first. */
  conversations(): ConversationSummary[]
  /** A new message arrives in a conversation: it moves to the top (a walk in progress sees it again). */
  bumpConversation(id: string, text?: string): ConversationSummary
  /** The emulated clock. */
  now(): Date
  /** Moves the emulated clock forward by `seconds` (never back); the new time. */
  advanceClock(seconds: number): Date
  /** Conversation Routing's default app, or null for none (take then answers #27). */
  setDefaultApp(app: AppName | null): void
  setFeatureStatus(status: FeatureStatus): void
  /** A Client for one app (default `primary`) aimed at this emulator. */
  client(app?: AppName, options?: Partial<ClientOptions>): Client
  client(options: Partial<ClientOptions>): Client
  stop(): Promise<void>
}

export interface ScriptedResponse {
  status?: number
  headers?: Record<string, string>
  /** Served byte for byte; a non-string is JSON-encoded. */
  body?: string | unknown
}

/** A strict canned-answer server (the conformance vectors run against it). */
export declare class ScriptedServer {
  private constructor()
  static start(): Promise<ScriptedServer>
  readonly url: string
  pushResponse(response: ScriptedResponse): void
  requests(): RecordedRequest[]
  clear(): void
  stop(): Promise<void>
}
