// ESM entry: the same objects as `require('messenger-handover/testing')`.
import cjs from './testing.js'

export const { Emulator, ScriptedServer, AppCredentials } = cjs

export default cjs
