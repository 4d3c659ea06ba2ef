// Node's built-in fetch (its bundled undici, default global agent), hand-written calls.
import { parseArgs, runRawWorkload, now } from './common.mjs';

const CLIENT = 'node: fetch (raw)';
const a = parseArgs();
const t0 = now();
const base = `${a.url}/v26.0/${a.page}`;
const headers = { authorization: `Bearer ${a.token}` };

async function request(method, path, payload) {
  const init = payload === undefined
    ? { headers }
    : { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(payload) };
  const r = await fetch(`${base}/${path}`, init);
  return { ok: r.ok, status: r.status, json: await r.json() };
}

await runRawWorkload(CLIENT, a, t0, request);
