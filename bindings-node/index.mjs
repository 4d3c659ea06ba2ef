// ESM entry: the same objects as `require('messenger-handover')`.
import cjs from './index.js'

export const {
  Client,
  Conversations,
  PAGE_INBOX_APP_ID,
  version,
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
  verifySignature,
  verifySubscription,
  parseEvents,
  signWebhookBody,
  createWebhookHandler,
} = cjs

export default cjs
