// messaging-api-messenger (Yoctol's Messenger SDK, axios inside): getThreadOwner,
// passThreadControl. It has no conversations API, so the paging workload is skipped.
import { parseArgs, psid, emitSkipped, checkOwner, runWorkload, now } from './common.mjs';

const CLIENT = 'node: messaging-api-messenger';
const a = parseArgs();
if (a.workload === 'paging') {
  emitSkipped(CLIENT, a, 'no conversations API');
  process.exit(0);
}
const t0 = now();
const mod = await import('messaging-api-messenger');
const MessengerClient = mod.MessengerClient ?? mod.default?.MessengerClient;
// It always calls /me/...; origin is its base-URL option.
const client = new MessengerClient({ accessToken: a.token, origin: a.url, version: '26.0', skipAppSecretProof: true });
const owner = async (i) => {
  const o = await client.getThreadOwner(psid(i));
  checkOwner(o?.appId);
};
const pass = async (i) => {
  const r = await client.passThreadControl(psid(i), a.target_apps[i % a.target_apps.length], 'bench');
  if (r?.success !== true) throw new Error(`unexpected ${JSON.stringify(r)}`);
};

await runWorkload(CLIENT, a, t0, owner, pass, null);
