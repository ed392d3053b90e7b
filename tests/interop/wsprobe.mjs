// RFC 6455 probes of the document socket, spoken by Node's `ws` client (not ours).
//
// usage: node wsprobe.mjs '{"scenario": "...", "url": "ws://127.0.0.1:PORT/ws/DOC", ...}'
//
// Runs one scenario and writes one JSON object to stdout: its observations, or
// {"error": "..."} (exit status 1) when something it waited for did not happen within
// `timeout_ms`. Console output goes to stderr. Scenarios and their extra arguments:
//
//   fragments  text, pieces   sync step 1 and then an update, each sent in `pieces` frames
//                             (a ping between two fragments of the update)
//   ping       payloads       base64 ping payloads, one at a time; then an edit
//   close      code, reason   the client closes; how the close ends
//   refused    binary | text  one message (base64 bytes, or a string as a text frame)
//   oversize   limit          an update message of exactly `limit` bytes, then one of limit + 1
//   order      count          two sockets: one pushes 0..count-1 to a Y.Array, one message each
//   handshake                 the opening handshake as the client saw it
//
// A close is reported as {code, reason, was_clean, server_fin}: was_clean is the WebSocket
// API's (close frames both sent and received); server_fin says the server ended the TCP
// connection. The client's own close timer is set far beyond `timeout_ms`, so a close is
// only reported once the server has ended the TCP connection.

import { createHash } from 'node:crypto'
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as syncProtocol from 'y-protocols/sync'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

const MESSAGE_SYNC = 0
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
  console[level] = (...args) => process.stderr.write(`[wsprobe ${level}] ${args.join(' ')}\n`)
}

const args = JSON.parse(process.argv[2] ?? '{}')
const timeoutMs = args.timeout_ms ?? 10000
const fromBase64 = (text) => Buffer.from(text, 'base64')
const toBase64 = (bytes) => Buffer.from(bytes).toString('base64')

const finish = (result, status = 0) => {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(status))
}

/** Resolves once `check()` holds, re-checked whenever `peer` sees something. */
const until = (peer, check, what) =>
  new Promise((resolve, reject) => {
    if (check()) return resolve()
    const timer = setTimeout(() => {
      peer.waiters.delete(waiter)
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    const waiter = () => {
      if (!check()) return
      clearTimeout(timer)
      peer.waiters.delete(waiter)
      resolve()
    }
    peer.waiters.add(waiter)
  })

const syncMessage = (write) => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  write(encoder)
  return encoding.toUint8Array(encoder)
}

const covers = (big, small) =>
  [...small].every(([client, clock]) => (big.get(client) ?? 0) >= clock)

/**
 * One socket and two documents: `mirror` holds only what the server sent, `doc` that and
 * this client's own edits, which are sent by hand (see `edit`).
 */
class Peer {
  constructor (url) {
    this.key = null
    this.ws = new WebSocket(url, {
      closeTimeout: 100 * timeoutMs,
      perMessageDeflate: false,
      finishRequest: (request) => {
        this.key = request.getHeader('sec-websocket-key')
        request.end()
      }
    })
    this.ws.binaryType = 'nodebuffer'
    this.doc = new Y.Doc()
    this.mirror = new Y.Doc()
    this.synced = false
    this.pongs = []
    this.updates = [] // every update the server sent, in order of arrival
    this.waiters = new Set()
    this.upgrade = null
    this.closed = null
    this.serverFin = false
    this.error = null
    this.ws.on('upgrade', (response) => {
      this.upgrade = response
      response.socket.on('end', () => { this.serverFin = true })
    })
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.receive(new Uint8Array(data))
      this.changed()
    })
    this.ws.on('pong', (data) => {
      this.pongs.push(toBase64(data))
      this.changed()
    })
    this.ws.on('error', (error) => {
      this.error = String(error.message ?? error)
      this.changed()
    })
    this.ws.addEventListener('close', (event) => {
      this.closed = {
        code: event.code,
        reason: event.reason,
        was_clean: event.wasClean,
        server_fin: this.serverFin
      }
      this.changed()
    })
  }

  changed () {
    for (const waiter of [...this.waiters]) waiter()
  }

  receive (data) {
    const decoder = decoding.createDecoder(data)
    if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return
    const reply = encoding.createEncoder()
    encoding.writeVarUint(reply, MESSAGE_SYNC)
    const kind = decoding.peekVarUint(decoder)
    if (kind === syncProtocol.messageYjsSyncStep1) {
      syncProtocol.readSyncMessage(decoder, reply, this.doc, 'server')
      this.ws.send(encoding.toUint8Array(reply))
      return
    }
    decoding.readVarUint(decoder)
    const update = decoding.readVarUint8Array(decoder)
    this.updates.push(update)
    Y.applyUpdate(this.mirror, update, 'server')
    Y.applyUpdate(this.doc, update, 'server')
    if (kind === syncProtocol.messageYjsSyncStep2) this.synced = true
  }

  async open () {
    const settled = () => this.ws.readyState === WebSocket.OPEN || this.closed !== null
    await until(this, settled, 'the socket to open')
    if (this.closed) {
      throw new Error(`closed while opening: ${JSON.stringify(this.closed)} (${this.error})`)
    }
  }

  /** Send sync step 1 (in `pieces` frames) and wait for the server's step 2. */
  async sync (pieces = 1) {
    await this.open()
    const step1 = syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, this.doc))
    this.sendInPieces(step1, pieces)
    await until(this, () => this.synced, 'sync step 2 from the server')
  }

  /** Apply `change` to `doc` and return the sync update message it makes (not sent). */
  edit (change) {
    const before = Y.encodeStateVector(this.doc)
    this.doc.transact(() => change(this.doc), 'local')
    const update = Y.encodeStateAsUpdate(this.doc, before)
    return syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update))
  }

  /** Wait until the server has sent back everything `doc` holds. */
  echoed () {
    const wanted = Y.decodeStateVector(Y.encodeStateVector(this.doc))
    const seen = () => covers(Y.decodeStateVector(Y.encodeStateVector(this.mirror)), wanted)
    return until(this, seen, 'the server to send our update back')
  }

  sendInPieces (message, pieces, between = () => {}) {
    const size = Math.ceil(message.length / pieces)
    for (let i = 0; i < pieces; i++) {
      const last = i === pieces - 1
      const piece = message.subarray(i * size, last ? message.length : (i + 1) * size)
      this.ws.send(piece, { binary: true, fin: last })
      if (!last) between(i)
    }
  }

  whenClosed () {
    return until(this, () => this.closed !== null, 'the connection to close')
      .then(() => this.closed)
  }

  text () {
    return this.mirror.getText('text').toString()
  }
}

/** An update message of exactly `size` bytes that appends `fill` characters to the text. */
const messageOfSize = (peer, size, fill) => {
  // A client id of its own, the same in every attempt: its varuint's length counts too.
  const author = Math.max(0, ...Y.decodeStateVector(Y.encodeStateVector(peer.doc)).keys()) + 1
  for (let length = Math.max(0, size - 64); length <= size; length++) {
    const scratch = new Y.Doc()
    scratch.clientID = author
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(peer.doc))
    const before = Y.encodeStateVector(scratch)
    const text = scratch.getText('text')
    text.insert(text.length, fill.repeat(length))
    const update = Y.encodeStateAsUpdate(scratch, before)
    const message = syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update))
    if (message.length === size) {
      Y.applyUpdate(peer.doc, update)
      return { message, text: fill.repeat(length) }
    }
  }
  throw new Error(`no update message of exactly ${size} bytes`)
}

const scenarios = {
  fragments: async () => {
    const peer = new Peer(args.url)
    await peer.sync(args.pieces)
    const before = peer.text()
    const message = peer.edit((doc) => doc.getText('text').insert(before.length, args.text))
    peer.sendInPieces(message, args.pieces, (i) => {
      if (i === 0) peer.ws.ping(Buffer.from('between'))
    })
    await peer.echoed()
    await until(peer, () => peer.pongs.length > 0, 'the pong to the ping between fragments')
    return {
      text_after_sync: before,
      text: peer.text(),
      pongs: peer.pongs,
      message_bytes: message.length
    }
  },
  ping: async () => {
    const peer = new Peer(args.url)
    await peer.sync()
    for (const [i, payload] of args.payloads.entries()) {
      peer.ws.ping(fromBase64(payload))
      await until(peer, () => peer.pongs.length > i, `pong ${i + 1}`)
    }
    const before = peer.text()
    peer.ws.send(peer.edit((doc) => doc.getText('text').insert(before.length, 'after the pings')))
    await peer.echoed()
    return { pongs: peer.pongs, text: peer.text(), open: peer.ws.readyState === WebSocket.OPEN }
  },
  close: async () => {
    const peer = new Peer(args.url)
    await peer.sync()
    peer.ws.close(args.code, args.reason)
    return { close: await peer.whenClosed() }
  },
  refused: async () => {
    const peer = new Peer(args.url)
    await peer.sync()
    peer.ws.send(args.text ?? fromBase64(args.binary), { binary: args.text === undefined })
    return { close: await peer.whenClosed() }
  },
  oversize: async () => {
    const peer = new Peer(args.url)
    await peer.sync()
    const atLimit = messageOfSize(peer, args.limit, 'a')
    peer.ws.send(atLimit.message)
    await peer.echoed()
    const over = messageOfSize(peer, args.limit + 1, 'b')
    peer.ws.send(over.message)
    const close = await peer.whenClosed()
    return { accepted: atLimit.text, refused_bytes: over.message.length, close }
  },
  order: async () => {
    const receiver = new Peer(args.url)
    const sender = new Peer(args.url)
    await Promise.all([receiver.sync(), sender.sync()])
    const received = receiver.mirror.getArray('order')
    const arrived = []
    received.observe((event) => {
      for (const part of event.changes.delta) if (part.insert) arrived.push(...part.insert)
    })
    const ranges = []
    const start = receiver.updates.length
    const messages = []
    for (let i = 0; i < args.count; i++) {
      messages.push(sender.edit((doc) => doc.getArray('order').push([i])))
    }
    for (const message of messages) sender.ws.send(message)
    await until(receiver, () => received.length >= args.count, `${args.count} markers to arrive`)
    for (const update of receiver.updates.slice(start)) {
      const mine = Y.decodeUpdate(update).structs.filter((s) => s.id.client === sender.doc.clientID)
      if (mine.length === 0) continue
      const first = Math.min(...mine.map((s) => s.id.clock))
      ranges.push([first, Math.max(...mine.map((s) => s.id.clock + s.length))])
    }
    return {
      ranges,
      arrived,
      receiver: received.toJSON(),
      sender: sender.doc.getArray('order').toJSON(),
      same_state: Buffer.from(Y.encodeStateVector(receiver.mirror))
        .equals(Buffer.from(Y.encodeStateVector(sender.doc))),
      pending: receiver.mirror.store.pendingStructs !== null
    }
  },
  handshake: async () => {
    const peer = new Peer(args.url)
    await peer.sync()
    const response = peer.upgrade
    return {
      status: response.statusCode,
      headers: response.headers,
      expected_accept: createHash('sha1').update(peer.key + ACCEPT_GUID).digest('base64'),
      extensions: peer.ws.extensions,
      protocol: peer.ws.protocol
    }
  }
}

const scenario = scenarios[args.scenario]
if (scenario === undefined) {
  finish({ error: `unknown scenario ${JSON.stringify(args.scenario)}` }, 1)
} else {
  scenario().then(finish, (error) => finish({ error: String(error.stack ?? error) }, 1))
}
