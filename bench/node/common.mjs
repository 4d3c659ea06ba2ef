// Shared plumbing of the Node bench runners (same protocol as bench/python/common.py):
//   node <runner>.mjs --workload W --url U --token T --page P --n N --concurrency C
//        --fields a,b,c --page-size 100 --target-apps A,B
// One workload per process; prints one JSON line.
import { readFileSync } from 'node:fs';

export function parseArgs(argv = process.argv.slice(2)) {
  const a = {
    workload: '', url: '', token: '', page: 'me', n: 1000, concurrency: 64,
    fields: 'id,updated_time,snippet', page_size: 100, target_apps: '1111111111111,2222222222222', warmup: 0,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-/g, '_');
    if (!(key in a)) { console.error(`unknown argument ${argv[i]}`); process.exit(2); }
    a[key] = typeof a[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  a.url = a.url.replace(/\/+$/, '');
  a.fields = splitFields(a.fields);
  a.target_apps = a.target_apps.split(',');
  WARMUP = a.warmup;
  return a;
}

/** `a,b,messages.limit(3){x,y}` -> ['a', 'b', 'messages.limit(3){x,y}']: commas
 *  inside braces belong to a field expansion. */
export function splitFields(text) {
  const out = [];
  let depth = 0, cur = '';
  for (const ch of text) {
    if (ch === '{' || ch === '(') depth++;
    else if (ch === '}' || ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out.filter(Boolean);
}

/** This project's export as the bench walks it: one folder (bench-server has one
 *  list), 3 messages each, pacing off; fields are the core's defaults, which
 *  run.py's EXPORT_FIELDS spells out for the peers. */
export const exportOptions = (a) => ({ folders: ['inbox'], messages: 3, maxCallsPerSecond: null, pageSize: a.page_size });

/** The PSID of call i: 1,000 distinct numeric ids, as every runner uses. */
export const psid = (i) => String(7000000000000000n + BigInt(i % 1000));

export function peakRssMb() {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return Number(line.split(/\s+/)[1]) / 1024;
  } catch { return 0; }
}

const pct = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))] : 0;

export function emit(client, a, n, seconds, errors, lat, extra = {}) {
  const out = { client, workload: a.workload, n, errors, seconds, rate: seconds ? n / seconds : 0, rss_mb: peakRssMb() };
  if (lat) { lat.sort((x, y) => x - y); out.p50_ms = pct(lat, 50); out.p99_ms = pct(lat, 99); }
  console.log(JSON.stringify({ ...out, ...extra }));
}

export function emitCold(client, a, ms, errors) {
  console.log(JSON.stringify({ client, workload: 'cold', n: 1, errors, inproc_ms: ms, rss_mb: peakRssMb() }));
}

export function emitSkipped(client, a, why) {
  console.log(JSON.stringify({ client, workload: a.workload, skipped: why }));
}

let firstError = true;
export function noteError(e) {
  if (firstError) { firstError = false; console.error(`error: ${e?.name}: ${e?.message}`); }
}

export const now = () => performance.now();

// Untimed calls each driver makes first (connections opened, JIT warm).
let WARMUP = 0;

export async function runConcurrent(n, concurrency, call, warm = true) {
  if (warm && WARMUP) await runConcurrent(WARMUP, concurrency, call, false);
  let next = 0, errors = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      try { await call(i); } catch (e) { errors++; noteError(e); }
    }
  };
  const t = now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return [(now() - t) / 1e3, errors];
}

export async function runSequential(n, call) {
  for (let i = 0; i < WARMUP; i++) { try { await call(i); } catch (e) { noteError(e); } }
  let errors = 0;
  const lat = new Array(n);
  const t = now();
  for (let i = 0; i < n; i++) {
    const s = now();
    try { await call(i); } catch (e) { errors++; noteError(e); }
    lat[i] = now() - s;
  }
  return [(now() - t) / 1e3, errors, lat];
}

export function checkOwner(appId) {
  if (!appId) throw new Error(`no thread owner in response: ${appId}`);
}

// A runner defines how its client makes the calls and hands them to runWorkload:
// owner(i) and pass(i) make call i (rejecting on a failed call); eachConversationId(seen)
// pages through all conversations, calling seen(id) on each in order (a callback, not an
// async generator: that would cost a promise per item in the timed loop); t0 is taken
// before the client is imported, so "cold" counts import + client + first call.
export async function runWorkload(client, a, t0, owner, pass, eachConversationId, owners) {
  if (a.workload === 'batch' && owners) {
    // owners(psids) resolves to one { ok, value } | { ok: false, error } per PSID.
    if (WARMUP) await owners(Array.from({ length: WARMUP }, (_, i) => psid(i)));
    const psids = Array.from({ length: a.n }, (_, i) => psid(i));
    const t = now();
    const results = await owners(psids);
    const seconds = (now() - t) / 1e3;
    let errors = results.length === a.n ? 0 : a.n;
    for (const r of results) if (!r.ok || !r.value?.appId) { errors++; noteError(r.error ?? new Error('no owner')); }
    emit(client, a, a.n, seconds, errors);
  } else if (a.workload === 'cold') {
    let errors = 0;
    try { await owner(0); } catch (e) { errors = 1; noteError(e); }
    emitCold(client, a, now() - t0, errors);
  } else if (a.workload === 'paging' || a.workload === 'export') {
    let items = 0, errors = 0;
    const t = now();
    // A failed page ends the run; the items seen so far are reported.
    try { await eachConversationId((id) => { if (id) items++; }); } catch (e) { errors++; noteError(e); }
    emit(client, a, items, (now() - t) / 1e3, errors);
  } else if (a.workload === 'thread_owner_conc') {
    const [s, e] = await runConcurrent(a.n, a.concurrency, owner);
    emit(client, a, a.n, s, e);
  } else if (a.workload === 'thread_owner_seq') {
    const [s, e, lat] = await runSequential(a.n, owner);
    emit(client, a, a.n, s, e, lat);
  } else if (a.workload === 'pass_conc') {
    const [s, e] = await runConcurrent(a.n, a.concurrency, pass);
    emit(client, a, a.n, s, e);
  } else {
    console.error(`unknown workload ${a.workload}`);
    process.exit(2);
  }
}

/** eachConversationId for the raw HTTP runners, which follow Graph's cursors by hand:
 *  getPage(query) GETs /conversations?query and returns its JSON body. */
export const rawEachConversationId = (a, getPage) => async (seen) => {
  let after = null;
  for (;;) {
    const q = new URLSearchParams({ fields: a.fields.join(','), limit: String(a.page_size) });
    if (after) q.set('after', after);
    const b = await getPage(q);
    for (const c of b.data) seen(c.id);
    if (!b.paging?.next) return;
    after = b.paging.cursors.after;
  }
};

/** runWorkload for the raw HTTP runners, whose calls differ only in how they send:
 *  request(method, path, payload) sends `payload` (JSON, POST) or nothing (GET) to
 *  `{page}/{path}` and resolves to { ok, status, json }. */
export function runRawWorkload(client, a, t0, request) {
  const getJson = async (path) => {
    const { ok, status, json } = await request('GET', path);
    if (!ok) throw new Error(`HTTP ${status}: ${JSON.stringify(json)}`);
    return json;
  };
  const owner = async (i) => {
    const b = await getJson(`thread_owner?recipient=${encodeURIComponent(psid(i))}`);
    checkOwner(b.data[0].thread_owner.app_id);
  };
  const pass = async (i) => {
    const payload = { recipient: { id: psid(i) }, target_app_id: a.target_apps[i % a.target_apps.length], metadata: 'bench' };
    const { ok, status, json } = await request('POST', 'pass_thread_control', payload);
    if (!ok || json.success !== true) throw new Error(`HTTP ${status}: ${JSON.stringify(json)}`);
  };
  const eachConversationId = rawEachConversationId(a, (q) => getJson(`conversations?${q}`));
  return runWorkload(client, a, t0, owner, pass, eachConversationId);
}
