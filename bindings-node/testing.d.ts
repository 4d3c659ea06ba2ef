import type { Client, ClientOptions } from './index'
import type { RecordedRequest } from './native'

export type { RecordedRequest }

export type AppName = 'primary' | 'secondary' | 'pageInbox'

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
}

export type FaultAction =
  | { type: 'status'; status?: number; body?: string; headers?: Record<string, string> }
  | { type: 'graph_error'; status?: number; error: Record<string, unknown>; headers?: Record<string, string> }
  | { type: 'delay'; ms: number }
  | { type: 'reset' }
  | { type: 'reset_mid_body'; status?: number }
  | { type: 'malformed'; status?: number; body?: string; contentType?: string }

export interface FaultSpec {
  match?: { method?: string; pathContains?: string }
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
  auth: 'header' | 'query' | null
  body: unknown
  app: 'primary' | 'secondary' | 'page_inbox' | null
  status: number
  errorCode: number | null
  fault: string | null
}

/** A stateful local Graph API; never keeps the process alive. */
export declare class Emulator {
  private constructor()
  static start(options?: EmulatorOptions): Promise<Emulator>
  readonly url: string
  readonly port: number
  readonly pageId: string
  readonly primary: AppCredentials
  readonly secondary: AppCredentials
  readonly pageInbox: AppCredentials
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
