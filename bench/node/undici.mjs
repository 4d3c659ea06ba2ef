// undici, hand-written calls: one Pool with `concurrency` connections, body.json().
import { parseArgs, psid, checkOwner, runWorkload, rawEachConversationId, now } from './common.mjs';

const CLIENT = 'node: undici (raw)';
const a = parseArgs();
const t0 = now();
const { Pool } = await import('undici');
const origin = new URL(a.url);
const prefix = `${origin.pathname.replace(/\/$/, '')}/v26.0/${a.page}`;
const pool = new Pool(origin.origin, { connections: a.concurrency });
const headers = { authorization: `Bearer ${a.token}` };

async function getJson(path) {
  const { statusCode, body } = await pool.request({ method: 'GET', path, headers });
  const json = await body.json();
  if (statusCode !== 200) throw new Error(`HTTP ${statusCode}: ${JSON.stringify(json)}`);
  return json;
}
const owner = async (i) => {
  const b = await getJson(`${prefix}/thread_owner?recipient=${encodeURIComponent(psid(i))}`);
  checkOwner(b.data[0].thread_owner.app_id);
};
const pass = async (i) => {
  const payload = { recipient: { id: psid(i) }, target_app_id: a.target_apps[i % a.target_apps.length], metadata: 'bench' };
  const { statusCode, body } = await pool.request({
    method: 'POST', path: `${prefix}/pass_thread_control`,
    headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(payload),
  });
  const json = await body.json();
  if (statusCode !== 200 || json.success !== true) throw new Error(`HTTP ${statusCode}: ${JSON.stringify(json)}`);
};

const eachConversationId = rawEachConversationId(a, (q) => getJson(`${prefix}/conversations?${q}`));

await runWorkload(CLIENT, a, t0, owner, pass, eachConversationId);
await pool.close();
