// One load-generator process: many Yjs clients (yjs + ws, y-websocket wire protocol), driven
// by `python -m bench` over stdin/stdout.
//
// Protocol: one JSON object per line each way.
//   request  {"id": 3, "cmd": "open", ...}
//   reply    {"id": 3, "ok": true, "result": {...}} | {"id": 3, "ok": false, "error": "..."}
//
// Clients speak the y-websocket protocol ("yws": the document is the last URL path segment) or
// Hocuspocus's variant of it ("hocuspocus": every message starts with the document name and
// the connection authenticates first). A client that is "recording" stores each incoming
// message with its arrival time (CLOCK_MONOTONIC, shared by every process on the machine) and
// decodes it later, so that measuring costs the client almost nothing while updates arrive.
//
// Each update a writer makes inserts exactly `chunk` characters, so the writer's clock in a
// reader's state vector, divided by `chunk`, is the number of its updates the reader holds:
// updates are tracked by sequence number without parsing the text.
//
// Typing at human pace in many rooms and reconnecting after a restart live in
// `worker_sessions.mjs`, whose commands are merged into these.

import readline from 'node:readline'
import { createHash } from 'node:crypto'
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { sessionCommands } from './worker_sessions.mjs'

const now = () => Number(process.hrtime.bigint()) / 1e6

const MSG_SYNC = 0
const MSG_AUTH = 2
const MSG_SYNC_REPLY = 4 // Hocuspocus: a Sync message that asks for no further step 1
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2
const REMOTE = Symbol('remote')
const TEXT = 'bench'

for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
  console[level] = (...args) => process.stderr.write(`[bench worker] ${args.join(' ')}\n`)
}

/** @type {Map<string, Client>} */
const clients = new Map()
let received = 0 // messages recorded so far, by every client of this worker

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Deterministic positions for the documents the cold-load scenario builds.
const mulberry32 = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

class Client {
  constructor (key, doc, url, dialect) {
    this.key = key
    this.doc = doc
    this.hocuspocus = dialect === 'hocuspocus'
    this.url = this.hocuspocus ? url : `${url.replace(/\/+$/, '')}/${encodeURIComponent(doc)}`
    this.ydoc = new Y.Doc()
    this.text = this.ydoc.getText(TEXT)
    this.ws = null
    this.synced = false
    this.recording = false
    /** @type {Array<number | Uint8Array>} arrival time, message, arrival time, message... */
    this.records = []
    this.track = null
    this.error = null
    this.closed = false
    this.onSynced = null
    this.onRemote = null
    this.ydoc.on('update', (update, origin) => {
      if (origin !== REMOTE) this.send(this.frame(MSG_SYNC, SYNC_UPDATE, update))
    })
  }

  frame (type, sub, bytes) {
    const encoder = encoding.createEncoder()
    if (this.hocuspocus) encoding.writeVarString(encoder, this.doc)
    encoding.writeVarUint(encoder, type)
    encoding.writeVarUint(encoder, sub)
    encoding.writeVarUint8Array(encoder, bytes)
    return encoding.toUint8Array(encoder)
  }

  send (data) {
    if (this.ws !== null && this.ws.readyState === WebSocket.OPEN) this.ws.send(data)
  }

  connect (timeoutMs) {
    const started = now()
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(`not synced after ${timeoutMs} ms`), timeoutMs)
      const finish = (error) => {
        clearTimeout(timer)
        this.onSynced = null
        if (error !== null && this.error === null) this.error = error
        resolve(error === null ? now() - started : null)
      }
      this.onSynced = () => finish(null)
      const ws = new WebSocket(this.url, { perMessageDeflate: false })
      this.ws = ws
      ws.binaryType = 'nodebuffer'
      ws.on('open', () => {
        if (this.hocuspocus) {
          const encoder = encoding.createEncoder()
          encoding.writeVarString(encoder, this.doc)
          encoding.writeVarUint(encoder, MSG_AUTH)
          encoding.writeVarUint(encoder, 0) // token
          encoding.writeVarString(encoder, '')
          ws.send(encoding.toUint8Array(encoder))
        }
        ws.send(this.frame(MSG_SYNC, SYNC_STEP1, Y.encodeStateVector(this.ydoc)))
      })
      ws.on('message', (data) => {
        if (this.recording) {
          this.records.push(now(), data)
          received++
        } else {
          this.handle(data)
        }
      })
      ws.on('error', (err) => finish(`socket error: ${err.message}`))
      ws.on('close', (code, reason) => {
        this.closed = true
        if (!this.synced) finish(`closed before sync: ${code} ${reason}`)
      })
    })
  }

  handle (data) {
    const decoder = decoding.createDecoder(data)
    if (this.hocuspocus) decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    if (type === MSG_SYNC || (this.hocuspocus && type === MSG_SYNC_REPLY)) {
      const sub = decoding.readVarUint(decoder)
      const payload = decoding.readVarUint8Array(decoder)
      if (sub === SYNC_STEP1) {
        this.send(this.frame(MSG_SYNC, SYNC_STEP2, Y.encodeStateAsUpdate(this.ydoc, payload)))
      } else if (sub === SYNC_STEP2 || sub === SYNC_UPDATE) {
        Y.applyUpdate(this.ydoc, payload, REMOTE)
        if (sub === SYNC_STEP2 && !this.synced) {
          this.synced = true
          if (this.onSynced !== null) this.onSynced()
        }
        if (this.onRemote !== null) this.onRemote()
      }
    } else if (type === MSG_AUTH) {
      const sub = decoding.readVarUint(decoder)
      // y-websocket: 0 is "permission denied"; Hocuspocus: 1 is, 2 is "authenticated".
      if ((!this.hocuspocus && sub === 0) || (this.hocuspocus && sub === 1)) {
        this.error = `permission denied: ${decoding.readVarString(decoder)}`
      }
    }
    // Awareness, query awareness, GESS "saved"/events, Hocuspocus statuses: not measured.
  }

  /** Decode the recorded messages; returns how many of the tracked writer's updates it holds. */
  catchUp () {
    const records = this.records
    this.records = []
    const { writer, chunk, base, arrivals } = this.track
    for (let i = 0; i < records.length; i += 2) {
      this.handle(records[i + 1])
      const have = Math.floor(this.clock(writer) / chunk) - base
      while (arrivals.length < have) arrivals.push(records[i])
    }
    return arrivals.length
  }

  clock (clientId) {
    return Y.getState(this.ydoc.store, clientId)
  }

  digest () {
    const content = this.text.toString()
    return {
      length: content.length,
      text_sha1: createHash('sha1').update(content).digest('hex'),
      state_vector: Buffer.from(Y.encodeStateVector(this.ydoc)).toString('base64'),
      error: this.error
    }
  }

  close () {
    return new Promise((resolve) => {
      if (this.ws === null || this.ws.readyState === WebSocket.CLOSED) return resolve()
      const timer = setTimeout(() => { this.ws.terminate(); resolve() }, 2000)
      this.ws.once('close', () => { clearTimeout(timer); resolve() })
      this.ws.close(1000)
    })
  }
}

const get = (key) => {
  const client = clients.get(key)
  if (client === undefined) throw new Error(`no client ${key}`)
  return client
}

const chunkText = (seq, chunk) => {
  const label = String(seq % 10 ** Math.min(chunk, 15)).padStart(chunk, '.')
  return label.length > chunk ? label.slice(-chunk) : label
}

const commands = {
  /**
   * Connect clients (at most `concurrency` connecting at once) and wait until each synced.
   * The first client of each document connects before the others: pycrdt-websocket never
   * syncs a second client that connects while the first one's room is being created.
   */
  async open ({ url, dialect, clients: specs, concurrency = 64, timeout_ms: timeoutMs = 60000 }) {
    const synced = []
    const failed = []
    const ids = {}
    const connectAll = async (list) => {
      let next = 0
      const lane = async () => {
        while (next < list.length) {
          const spec = list[next++]
          const client = new Client(spec.key, spec.doc, url, dialect)
          clients.set(spec.key, client)
          const ms = await client.connect(timeoutMs)
          if (ms === null) failed.push({ key: spec.key, error: client.error })
          else synced.push(ms)
          ids[spec.key] = client.ydoc.clientID
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane))
    }
    const seen = new Set()
    const first = []
    const rest = []
    for (const spec of specs) {
      if (seen.has(spec.doc)) {
        rest.push(spec)
      } else {
        seen.add(spec.doc)
        first.push(spec)
      }
    }
    const started = now()
    await connectAll(first)
    await connectAll(rest)
    return { synced_ms: synced, failed, ids, wall_ms: now() - started }
  },

  /**
   * Record arrivals at `keys` of the updates of client `writer` (`chunk` characters each),
   * numbered from 0 after the first `base` of them.
   */
  async record ({ keys, writer, chunk, base = 0 }) {
    for (const key of keys) {
      const client = get(key)
      client.recording = true
      client.track = { writer, chunk, base, arrivals: [] }
    }
    return null
  },

  /** Send `count` updates of `chunk` characters: `rate` per second, or all at once when 0. */
  async write ({ key, count, rate, chunk }) {
    const client = get(key)
    const sendTimes = new Array(count)
    const started = now()
    for (let seq = 0; seq < count; seq++) {
      if (rate > 0) {
        const due = started + (seq * 1000) / rate
        const wait = due - now()
        if (wait > 1) await sleep(wait)
      }
      sendTimes[seq] = now()
      client.text.insert(client.text.length, chunkText(seq, chunk))
    }
    return { send_times: sendTimes, wall_ms: now() - started }
  },

  /** Decode what the recording clients received: fewest and total updates held. */
  async progress ({ keys }) {
    let min = Infinity
    let total = 0
    for (const key of keys) {
      const have = get(key).catchUp()
      min = Math.min(min, have)
      total += have
    }
    return { min, total }
  },

  /** Latency of each of the writer's updates at each recording client, then stop recording. */
  async finish ({ keys, send_times: sendTimes }) {
    const latencies = []
    let lost = 0
    let lastArrival = 0
    for (const key of keys) {
      const client = get(key)
      client.catchUp()
      const arrivals = client.track.arrivals
      const n = Math.min(arrivals.length, sendTimes.length)
      for (let seq = 0; seq < n; seq++) latencies.push(arrivals[seq] - sendTimes[seq])
      lost += sendTimes.length - n
      if (n > 0) lastArrival = Math.max(lastArrival, arrivals[n - 1])
      client.recording = false
      client.track = null
    }
    return { latencies, lost, last_arrival: lastArrival }
  },

  async digest ({ keys }) {
    const digests = {}
    for (const key of keys) digests[key] = get(key).digest()
    return digests
  },

  /**
   * Pairs of writers on one document each keep at most `window` updates in flight (sent and
   * not yet seen by the other writer) for `duration_ms`, then wait up to `drain_ms` for the rest.
   */
  async throughput ({ pairs, duration_ms: durationMs, drain_ms: drainMs, window, chunk }) {
    const writers = []
    for (const [a, b] of pairs) {
      const wa = { client: get(a), sent: 0 }
      const wb = { client: get(b), sent: 0 }
      wa.peer = wb
      wb.peer = wa
      writers.push(wa, wb)
    }
    const delivered = (w) => Math.floor(w.peer.client.clock(w.client.ydoc.clientID) / chunk)
    let running = true
    const pump = (w) => {
      while (running && w.sent - delivered(w) < window) {
        w.client.text.insert(w.client.text.length, chunkText(w.sent, chunk))
        w.sent++
      }
    }
    for (const w of writers) w.client.onRemote = () => pump(w.peer)
    const started = now()
    for (const w of writers) pump(w)
    await sleep(durationMs)
    running = false
    const elapsed = now() - started
    let sent = 0
    let inWindow = 0
    for (const w of writers) {
      sent += w.sent
      inWindow += delivered(w)
    }
    const deadline = now() + drainMs
    let after = inWindow
    while (now() < deadline) {
      after = writers.reduce((sum, w) => sum + delivered(w), 0)
      if (after >= sent) break
      await sleep(20)
    }
    for (const w of writers) w.client.onRemote = null
    return { sent, delivered_in_window: inWindow, delivered: after, elapsed_ms: elapsed }
  },

  /**
   * Build a document from `count` separate updates of `chunk` characters, with at most
   * `window` not yet seen by the `holder` client. Like typing: each update inserts after the
   * previous one, and every `jump` updates (0: never) the cursor moves to a random place.
   */
  async build ({ key, holder, count, chunk, jump, window, seed = 1 }) {
    const writer = get(key)
    const watcher = get(holder)
    const id = writer.ydoc.clientID
    const rand = mulberry32(seed)
    const started = now()
    const filler = 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(chunk / 26)).slice(0, chunk)
    let sent = 0
    let cursor = 0
    while (sent < count) {
      while (sent < count && sent - Math.floor(watcher.clock(id) / chunk) < window) {
        if (jump > 0 && sent % jump === 0) cursor = Math.floor(rand() * (writer.text.length + 1))
        writer.text.insert(cursor, filler)
        cursor += chunk
        sent++
      }
      await new Promise((resolve) => { watcher.onRemote = resolve; setTimeout(resolve, 200) })
      watcher.onRemote = null
    }
    const deadline = now() + 60000
    while (Math.floor(watcher.clock(id) / chunk) < count && now() < deadline) await sleep(10)
    return {
      delivered: Math.floor(watcher.clock(id) / chunk),
      bytes: Y.encodeStateAsUpdate(writer.ydoc).length,
      elapsed_ms: now() - started
    }
  },

  async close ({ keys }) {
    const targets = keys ?? [...clients.keys()]
    await Promise.all(targets.map((key) => get(key).close()))
    for (const key of targets) clients.delete(key)
    return null
  },

  /** Messages recorded so far (cheap: nothing is decoded). */
  async received () {
    return received
  },

  async ping () {
    return { pid: process.pid }
  }
}

Object.assign(commands, sessionCommands({ get, clients, now, sleep, chunkText, mulberry32 }))

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
rl.on('line', async (line) => {
  let request
  try {
    request = JSON.parse(line)
  } catch (err) {
    console.error(`bad request: ${err.message}`)
    return
  }
  const { id, cmd } = request
  try {
    const handler = commands[cmd]
    if (handler === undefined) throw new Error(`unknown command ${cmd}`)
    const result = await handler(request)
    process.stdout.write(JSON.stringify({ id, ok: true, result }) + '\n')
  } catch (err) {
    process.stdout.write(JSON.stringify({ id, ok: false, error: String(err?.stack ?? err) }) + '\n')
  }
})
rl.on('close', () => process.exit(0))
