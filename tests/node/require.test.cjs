// The package from CommonJS: the same classes as through `import` (the ESM
// entry re-exports the CommonJS one, so there is no dual-package hazard).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const root = path.join(__dirname, '..', '..', 'bindings-node')

test('require and import give the same objects', async () => {
  const cjs = require(root)
  const esm = await import(path.join(root, 'index.mjs'))
  assert.equal(cjs.Client, esm.Client)
  assert.equal(cjs.ThreadControlError, esm.ThreadControlError)
  assert.equal(esm.default, cjs)
  const testingCjs = require(path.join(root, 'testing.js'))
  const testingEsm = await import(path.join(root, 'testing.mjs'))
  assert.equal(testingCjs.Emulator, testingEsm.Emulator)
})

test('a call through require', async () => {
  const { Emulator } = require(path.join(root, 'testing.js'))
  const { HandoverError } = require(root)
  const emu = await Emulator.start({ conversations: 3 })
  try {
    const owner = await emu.client().threadOwner('123')
    assert.equal(owner.appId, emu.primary.appId)
    await assert.rejects(emu.client('secondary').takeThreadControl('123'), HandoverError)
  } finally {
    await emu.stop()
  }
})

test('the package.json exports map names every entry point', () => {
  const pkg = require(path.join(root, 'package.json'))
  for (const entry of ['.', './testing']) {
    for (const cond of ['types', 'import', 'require']) {
      assert.ok(require('node:fs').existsSync(path.join(root, pkg.exports[entry][cond])), `${entry} ${cond}`)
    }
  }
})
