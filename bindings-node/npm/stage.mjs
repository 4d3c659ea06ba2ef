// Stages the npm packages the napi-rs way, ready for `npm pack` / `npm publish`:
//   <out>/messenger-handover/          the root package: JavaScript and types, no binary,
//                                      optionalDependencies on the platform packages;
//   <out>/messenger-handover-<plat>/   one per addon given: package.json from
//                                      bindings-node/npm/<plat>/ (os, cpu, libc) + the .node.
// Both get the repository's LICENSE; the root also gets CHANGELOG.md.
//
//   node bindings-node/npm/stage.mjs OUT PLAT=path/to/addon.node [PLAT=...]
//   node bindings-node/npm/stage.mjs OUT --all-targets DIR   (release: DIR/<plat>/*.node for every napi target)
//
// `make dist` (mk/dist.mk) and .github/workflows/release.yml both use it, so the
// packages published are the ones `make dist-check` installed here.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const nodeDir = resolve(here, '..')
const repo = resolve(nodeDir, '..')
const [out, ...rest] = process.argv.slice(2)
if (!out || rest.length === 0) {
  console.error('usage: stage.mjs OUT PLAT=addon.node ... | stage.mjs OUT --all-targets DIR')
  process.exit(2)
}

const root = JSON.parse(readFileSync(join(nodeDir, 'package.json'), 'utf8'))
const addons = new Map()
if (rest[0] === '--all-targets') {
  for (const plat of readdirSync(here, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
    const dir = join(resolve(rest[1]), plat)
    const node = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.node')) : undefined
    if (!node) throw new Error(`no .node for ${plat} under ${dir}`)
    addons.set(plat, join(dir, node))
  }
} else {
  for (const arg of rest) {
    const [plat, file] = arg.split('=')
    addons.set(plat, resolve(file))
  }
}

rmSync(out, { recursive: true, force: true })
const rootOut = join(out, root.name)
mkdirSync(rootOut, { recursive: true })

// The root: every entry of `files` except the addon itself.
const files = root.files.filter((f) => !f.endsWith('.node'))
for (const f of files) {
  if (f === 'CHANGELOG.md') continue
  cpSync(join(nodeDir, f), join(rootOut, f), { recursive: true })
}
cpSync(join(repo, 'LICENSE'), join(rootOut, 'LICENSE'))
cpSync(join(repo, 'CHANGELOG.md'), join(rootOut, 'CHANGELOG.md'))

const optionalDependencies = {}
for (const [plat, addon] of addons) {
  const src = join(here, plat)
  const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'))
  if (pkg.version !== root.version) throw new Error(`${pkg.name} is ${pkg.version}, the root ${root.version}: run make bump`)
  const dir = join(out, pkg.name)
  mkdirSync(dir, { recursive: true })
  cpSync(join(src, 'package.json'), join(dir, 'package.json'))
  cpSync(join(src, 'README.md'), join(dir, 'README.md'))
  cpSync(join(repo, 'LICENSE'), join(dir, 'LICENSE'))
  cpSync(addon, join(dir, pkg.main))
  optionalDependencies[pkg.name] = pkg.version
}

// What users install: no dev tooling, no build scripts, the binary only through
// the optional platform packages (npm installs the one whose os/cpu/libc match).
const { devDependencies, scripts, ...published } = root
published.files = [...files, 'LICENSE']
published.optionalDependencies = optionalDependencies
writeFileSync(join(rootOut, 'package.json'), JSON.stringify(published, null, 2) + '\n')
console.log(`staged ${root.name}@${root.version} and ${Object.keys(optionalDependencies).join(', ')} in ${out}`)
