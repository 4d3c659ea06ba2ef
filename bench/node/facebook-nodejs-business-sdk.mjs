// facebook-nodejs-business-sdk (Meta's official Node SDK, axios inside):
// Page.getThreadOwner, Page.createPassThreadControl, Page.getConversations (Cursor).
// Crash reporting is turned off (init's third argument) so it never phones home.
import { parseArgs, psid, checkOwner, runWorkload, now } from './common.mjs';

const CLIENT = 'node: facebook-nodejs-business-sdk';
const a = parseArgs();
const t0 = now();
const sdk = (await import('facebook-nodejs-business-sdk')).default;
const { FacebookAdsApi, Page } = sdk;
// The SDK's base URL is a static getter; redefine it to point at the bench server.
Object.defineProperty(FacebookAdsApi, 'GRAPH', { get: () => a.url, configurable: true });
FacebookAdsApi.init(a.token, 'en_US', false);
const page = new Page(a.page);

const owner = async (i) => {
  const cursor = await page.getThreadOwner([], { recipient: psid(i) });
  checkOwner(cursor[0]?._data?.thread_owner?.app_id ?? cursor[0]?.thread_owner?.app_id);
};
const pass = (i) => page.createPassThreadControl([], {
  recipient: { id: psid(i) }, target_app_id: a.target_apps[i % a.target_apps.length], metadata: 'bench',
});

async function eachConversationId(seen) {
  let cursor = await page.getConversations(a.fields, { limit: a.page_size });
  for (;;) {
    for (const c of cursor) seen(c.id);
    if (!cursor.hasNext()) return;
    cursor = await cursor.next();
  }
}

await runWorkload(CLIENT, a, t0, owner, pass, eachConversationId);
