// This project's Node Client (messenger-handover, napi-rs release build), loaded
// from bindings-node/ (override with MH_NODE_PACKAGE=/path/to/package).
import { createRequire } from 'node:module';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, psid, checkOwner, runWorkload, now } from './common.mjs';

const CLIENT = 'node: messenger-handover';
const a = parseArgs();
const here = dirname(fileURLToPath(import.meta.url));
const pkg = process.env.MH_NODE_PACKAGE || resolve(here, '../../bindings-node');

const t0 = now();
const { Client } = createRequire(import.meta.url)(pkg);
const client = new Client({ accessToken: a.token, pageId: a.page, baseUrl: a.url });
const owner = async (i) => {
  const o = await client.threadOwner(psid(i));
  checkOwner(o?.appId ?? o?.app_id);
};
const pass = (i) => client.passThreadControl(psid(i), a.target_apps[i % a.target_apps.length], { metadata: 'bench' });
async function eachConversationId(seen) {
  for await (const conv of client.conversations({ fields: a.fields, pageSize: a.page_size })) seen(conv.id);
}

await runWorkload(CLIENT, a, t0, owner, pass, eachConversationId);
