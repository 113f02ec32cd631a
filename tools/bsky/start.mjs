// The reference Bluesky stack for huggingtweets' tests: dev-env's TestNetwork (PLC, PDS, AppView, and the
// bsync and ozone it needs) on fixed loopback ports, an invite-less PDS with its rate limits on.
// start.sh runs it (with Postgres and Redis up) and passes DB_POSTGRES_URL, REDIS_HOST, HTS_BSKY_PORTS
// ("plc,pds,appview,ozone") and HTS_BSKY_READY (a file it writes, with the URLs, once every server answers).
import net from 'node:net'
import { writeFileSync, renameSync } from 'node:fs'

// Every server here calls listen(port) with no host, which binds all interfaces: keep them on loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
  else if (args[0] && typeof args[0] === 'object' && 'port' in args[0] && !args[0].host) args[0] = { ...args[0], host: '127.0.0.1' }
  return listen.apply(this, args)
}

const { TestNetwork } = await import('@atproto/dev-env')
const [plc, pds, appview, ozone] = process.env.HTS_BSKY_PORTS.split(',').map(Number)
const network = await TestNetwork.create({
  dbPostgresSchema: 'hts',
  plc: { port: plc },
  pds: { port: pds, hostname: 'localhost', rateLimitsEnabled: true, inviteRequired: false },
  bsky: { port: appview, publicUrl: `http://localhost:${appview}` },
  ozone: { port: ozone },
})
const url = (port) => `http://127.0.0.1:${port}`
const urls = { pds: url(network.pds.port), appview: url(network.bsky.port), plc: url(network.plc.port) }
for (const [name, u] of Object.entries(urls)) {
  const res = await fetch(u + (name === 'plc' ? '/_health' : '/xrpc/_health'))
  if (!res.ok) throw new Error(`${name} at ${u} answered ${res.status}`)
}
const ready = process.env.HTS_BSKY_READY
writeFileSync(ready + '.tmp', JSON.stringify(urls))
renameSync(ready + '.tmp', ready)
console.log('bsky stack ready', JSON.stringify(urls))

let closing = false
const stop = async () => {
  if (closing) return
  closing = true
  setTimeout(() => process.exit(0), 10_000).unref() // a server that will not close must not keep stop.sh waiting
  try { await network.close() } finally { process.exit(0) }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
