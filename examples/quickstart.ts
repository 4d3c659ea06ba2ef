// The Node quickstart, typed: `tsc --noEmit --strict` checks it against the
// package's public types (it is not run).
import {
  Client,
  GraphApiError,
  RateLimitError,
  ThreadControlError,
  type Conversation,
  type ThreadOwner,
  parseEvents,
} from 'messenger-handover'
import { Emulator } from 'messenger-handover/testing'

async function main(): Promise<void> {
  const emu: Emulator | null = process.env.PAGE_ACCESS_TOKEN ? null : await Emulator.start({ conversations: 50 })
  const client = emu
    ? emu.client('primary')
    : new Client({ accessToken: process.env.PAGE_ACCESS_TOKEN ?? '', pageId: process.env.PAGE_ID, timeoutMs: 10_000 })
  const psid: string = process.env.PSID ?? '1234567890'

  const owner: ThreadOwner | null = await client.threadOwner(psid, { signal: AbortSignal.timeout(5000) })
  console.log(owner ? `${owner.appId} until ${owner.expiration?.toISOString() ?? 'forever'}` : 'idle')
  await client.passThreadControlToPageInbox(psid, { metadata: 'needs a human' })
  await client.takeThreadControl(psid)

  const inbox = client.conversations({ folder: 'inbox', pageSize: 10, fields: ['id', 'snippet', 'updated_time'] })
  for await (const c of inbox) {
    const conv: Conversation = c
    console.log(conv.id, conv.updatedTime?.toISOString(), conv.snippet, conv.raw['id'])
    break
  }
  const resumeFrom: string | null = inbox.after
  for await (const page of client.conversations({ after: resumeFrom ?? undefined }).pages()) {
    console.log(page.items.length, page.hasNext)
    break
  }

  try {
    await client.extendThreadControl(psid, 3600)
  } catch (err) {
    if (err instanceof RateLimitError) console.log(`retry in ${err.retryAfter ?? '?'} s`)
    else if (err instanceof ThreadControlError) console.log(err.code, err.subcode, err.fbtraceId)
    else if (err instanceof GraphApiError) console.log(err.kind, err.httpStatus)
    else throw err
  }
  for (const e of parseEvents('{"object":"page","entry":[]}')) {
    if (e.type === 'pass_thread_control') console.log(e.newOwnerAppId)
  }
  client.close()
  await emu?.stop()
}

void main()
