// Baseline for the cold-start workload: bare Node plus the harness (common.mjs), no client.
import { parseArgs, emitCold, now } from './common.mjs';

const t = now();
emitCold('node: bare node (baseline)', parseArgs(), now() - t, 0);
