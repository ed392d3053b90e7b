// Hocuspocus with its defaults (no extensions, no persistence), on loopback, for python -m bench.
import { Server } from '@hocuspocus/server'

const server = new Server({
  address: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 1234),
  quiet: true
})
await server.listen()
process.on('SIGTERM', async () => {
  await server.destroy()
  process.exit(0)
})
