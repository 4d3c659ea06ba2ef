'use strict'
// Loads the native addon through the loader napi-rs generates (native-loader.js).
// When no binary matches this machine, that loader's error only says "Cannot find
// native binding"; this one names the platform package npm should have installed
// and how to get it, the usual cause being npm's optional-dependency bug
// (https://github.com/npm/cli/issues/4828).

function platformPackage(name) {
  const { platform, arch } = process
  if (platform === 'linux') {
    const header = process.report && typeof process.report.getReport === 'function' ? process.report.getReport().header : null
    const glibc = Boolean(header && header.glibcVersionRuntime)
    return `${name}-linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `${name}-win32-${arch}-msvc`
  return `${name}-${platform}-${arch}`
}

// The platform packages published for this version (package.json's napi.targets).
function publishedPackages(name, napi) {
  const os = { linux: 'linux', darwin: 'darwin', windows: 'win32' }
  const cpu = { x86_64: 'x64', aarch64: 'arm64' }
  return (napi.targets || []).map((triple) => {
    const [a, , o, abi] = triple.split('-')
    return [name, os[o], cpu[a], abi === 'gnu' || abi === 'musl' || abi === 'msvc' ? abi : null].filter(Boolean).join('-')
  })
}

try {
  module.exports = require('./native-loader.js')
} catch (cause) {
  const { name, version, napi } = require('./package.json')
  const pkg = platformPackage(name)
  const published = publishedPackages(name, napi)
  const fix = published.includes(pkg)
    ? `Its binary ships in the optional package ${pkg}, which was not installed (npm skips optional dependencies ` +
      `after a lock file made on another platform: https://github.com/npm/cli/issues/4828, or it ran with ` +
      `--omit=optional / --no-optional). Fix: \`npm install ${pkg}@${version}\`, or delete node_modules and ` +
      `package-lock.json and run \`npm install\` again.`
    : `No binary is published for this platform (there are: ${published.join(', ')}). ` +
      `Build it from source: https://github.com/messenger-handover/messenger-handover#install`
  const error = new Error(`${name} ${version}: cannot load the native addon for ${process.platform}-${process.arch}. ${fix}`)
  error.code = 'ERR_MESSENGER_HANDOVER_NATIVE'
  error.cause = cause
  throw error
}
