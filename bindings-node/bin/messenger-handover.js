#!/usr/bin/env node
'use strict'
// The `messenger-handover` command: the same Rust code as the binary and the
// Python console script (messenger_handover_cli::run), run on this thread.
const native = require('../native.js')

process.exitCode = native.runCli(['messenger-handover', ...process.argv.slice(2)])
