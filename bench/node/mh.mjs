// This project's Node Client (messenger-handover, napi-rs release build), loaded
// from bindings-node/ (override with MH_NODE_PACKAGE=/path/to/package).
import { createRequire } from 'node:module';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, psid, checkOwner, runWorkload, now, exportOptions } from './common.mjs';

const CLIENT = 'node: messenger-handover';
const a = parseArgs();
const here = dirname(fileURLToPath(import.meta.url));
const pkg = process.env.MH_NODE_PACKAGE || resolve(here, '../../bindings-node');

const t0 = now();
const { Client } = createRequire(import.meta.url)(pkg);
// The batch workload runs at the per-PSID row's concurrency: connections capped at
// the 64 that row keeps in flight (else its 100 batch requests all go at once).
const extra = a.workload === 'batch' ? { maxConnections: a.concurrency } : {};
const client = new Client({ accessToken: a.token, pageId: a.page, baseUrl: a.url, ...extra });
const owner = async (i) => {
  const o = await client.threadOwner(psid(i));
  checkOwner(o?.appId ?? o?.app_id);
};
const pass = (i) => client.passThreadControl(psid(i), a.target_apps[i % a.target_apps.length], { metadata: 'bench' });
async function eachConversationId(seen) {
  const items = a.workload === 'export'
    ? client.exportConversations(exportOptions(a))
    : client.conversations({ fields: a.fields, pageSize: a.page_size });
  for await (const conv of items) seen(conv.id);
}
const owners = (psids) => client.threadOwners(psids);

await runWorkload(CLIENT, a, t0, owner, pass, eachConversationId, owners);
