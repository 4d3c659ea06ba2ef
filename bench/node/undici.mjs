// undici, hand-written calls: one Pool with `concurrency` connections, body.json().
import { parseArgs, runRawWorkload, now } from './common.mjs';

const CLIENT = 'node: undici (raw)';
const a = parseArgs();
const t0 = now();
const { Pool } = await import('undici');
const origin = new URL(a.url);
const prefix = `${origin.pathname.replace(/\/$/, '')}/v26.0/${a.page}`;
const pool = new Pool(origin.origin, { connections: a.concurrency });
const headers = { authorization: `Bearer ${a.token}` };

async function request(method, path, payload) {
  const opts = payload === undefined
    ? { method, path: `${prefix}/${path}`, headers }
    : { method, path: `${prefix}/${path}`, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(payload) };
  const { statusCode, body } = await pool.request(opts);
  return { ok: statusCode === 200, status: statusCode, json: await body.json() };
}

await runRawWorkload(CLIENT, a, t0, request);
await pool.close();
