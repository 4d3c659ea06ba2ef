// Node's built-in fetch (its bundled undici, default global agent), hand-written calls.
import { parseArgs, psid, checkOwner, runWorkload, rawEachConversationId, now } from './common.mjs';

const CLIENT = 'node: fetch (raw)';
const a = parseArgs();
const t0 = now();
const base = `${a.url}/v26.0/${a.page}`;
const headers = { authorization: `Bearer ${a.token}` };

async function getJson(url) {
  const r = await fetch(url, { headers });
  const json = await r.json();
  if (!r.ok) throw new Error(`HTTP ${r.status}: ${JSON.stringify(json)}`);
  return json;
}
const owner = async (i) => {
  const b = await getJson(`${base}/thread_owner?recipient=${encodeURIComponent(psid(i))}`);
  checkOwner(b.data[0].thread_owner.app_id);
};
const pass = async (i) => {
  const payload = { recipient: { id: psid(i) }, target_app_id: a.target_apps[i % a.target_apps.length], metadata: 'bench' };
  const r = await fetch(`${base}/pass_thread_control`, {
    method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(payload),
  });
  const json = await r.json();
  if (!r.ok || json.success !== true) throw new Error(`HTTP ${r.status}: ${JSON.stringify(json)}`);
};

const eachConversationId = rawEachConversationId(a, (q) => getJson(`${base}/conversations?${q}`));

await runWorkload(CLIENT, a, t0, owner, pass, eachConversationId);
