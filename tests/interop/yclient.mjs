// A real Yjs client (yjs + y-websocket's WebsocketProvider) driven by the Python tests.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout.
//
//   request   {"id": 7, "cmd": "insert", "index": 0, "text": "hi"}
//   reply     {"id": 7, "ok": true, "result": null}
//             {"id": 7, "ok": false, "error": "index 9 is past the end (length 2)"}
//   event     {"event": "status", "status": "connected"}
//
// Commands run in the order they arrive; a command that waits (wait_synced) does not hold up
// the ones after it. Events are pushed whenever they happen:
//
//   status            {status: "connecting" | "connected" | "disconnected"}
//   sync              {synced: bool}
//   connection-close  {code, reason, was_clean}: code is null when the close was local
//   closed            {code, reason}: the server closed for good (4400-4499), no reconnect
//   connection-error  {message}
//   saved             {state_vector}: GESS "saved" message (type 100, base64 state vector)
//   server-event      {data}: GESS server event (type 101, a JSON object)
//   permission-denied {reason}
//   sync-status       {status: "green" | "yellow" | "red", local_updates_synced: bool}
//                     (only with {"release": "rc"} on connect: y-websocket 3.1.0-rc.5)
//   fatal             {message}: an uncaught error; the process exits with status 1
//
// Nothing else is ever written to stdout: console output goes to stderr. The process exits
// when stdin closes, so a crashed test never leaves it behind.

import readline from 'node:readline'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
// The 3.1 release candidate: the one line of y-websocket 3 with the sync-status API (a local
// edit counts as synced once an update carrying it comes back from the server).
import { WebsocketProvider as WebsocketProviderRc } from 'y-websocket-rc'
import WebSocket from 'ws'
import * as decoding from 'lib0/decoding'

const MESSAGE_SAVED = 100
const MESSAGE_EVENT = 101

const write = (obj) => {
  process.stdout.write(JSON.stringify(obj) + '\n')
}
const emit = (event, fields = {}) => write({ event, ...fields })

for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
  console[level] = (...args) => {
    process.stderr.write(`[yclient ${level}] ${args.map(String).join(' ')}\n`)
  }
}

const toBase64 = (bytes) => Buffer.from(bytes).toString('base64')
const fromBase64 = (text) => new Uint8Array(Buffer.from(text, 'base64'))

/** @type {Y.Doc} */
let ydoc = new Y.Doc()
/** @type {WebsocketProvider | null} */
let provider = null

const requireProvider = () => {
  if (provider === null) throw new Error('not connected: send "connect" first')
  return provider
}

const requireInt = (args, name) => {
  const value = args[name]
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`"${name}" must be a non-negative integer, got ${JSON.stringify(value)}`)
  }
  return value
}

const requireString = (args, name) => {
  const value = args[name]
  if (typeof value !== 'string') {
    throw new Error(`"${name}" must be a string, got ${JSON.stringify(value)}`)
  }
  return value
}

const textOf = (args) => ydoc.getText(args.name === undefined ? 'text' : requireString(args, 'name'))

const waitUntil = (check, timeoutMs, what) =>
  new Promise((resolve, reject) => {
    if (check()) {
      resolve(null)
      return
    }
    const started = Date.now()
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer)
        resolve(null)
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }
    }, 5)
  })

const connect = (args) => {
  if (provider !== null) throw new Error('already connected')
  const url = requireString(args, 'url')
  const document = requireString(args, 'document')
  const params = args.params ?? {}
  const reconnect = args.reconnect ?? true
  const Provider = args.release === 'rc' ? WebsocketProviderRc : WebsocketProvider
  ydoc = new Y.Doc()
  const p = new Provider(url, document, ydoc, {
    // Connect only once every listener is in place, so that no event is missed.
    connect: false,
    WebSocketPolyfill: WebSocket,
    params,
    // Every client is its own process, but keep them from ever talking past the server.
    disableBc: true,
    // Reconnect quickly: tests restart servers and should not wait for a long back-off.
    maxBackoffTime: 500,
    shouldReconnect: reconnect ? undefined : () => false
  })
  p.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
    emit('saved', { state_vector: toBase64(decoding.readVarUint8Array(decoder)) })
  }
  p.messageHandlers[MESSAGE_EVENT] = (_encoder, decoder) => {
    emit('server-event', { data: JSON.parse(decoding.readVarString(decoder)) })
  }
  p.on('status', ({ status }) => emit('status', { status }))
  p.on('sync-status', (syncStatus) => {
    emit('sync-status', {
      status: syncStatus.status,
      local_updates_synced: syncStatus.localUpdatesSynced
    })
  })
  p.on('sync', (synced) => emit('sync', { synced }))
  p.on('connection-close', (event) => {
    emit('connection-close', {
      code: event ? event.code : null,
      reason: event ? String(event.reason ?? '') : null,
      was_clean: event ? Boolean(event.wasClean) : null
    })
  })
  p.on('closed', ({ code, reason }) => emit('closed', { code, reason: String(reason ?? '') }))
  p.on('connection-error', (event) => {
    emit('connection-error', { message: String(event?.message ?? event?.error ?? event) })
  })
  provider = p
  p.connect()
  return { client_id: ydoc.clientID }
}

const commands = {
  ping: () => 'pong',
  connect,
  client_id: () => ydoc.clientID,
  status: () => {
    const p = requireProvider()
    return {
      connected: p.wsconnected,
      connecting: p.wsconnecting,
      synced: p.synced,
      should_connect: p.shouldConnect
    }
  },
  wait_synced: async (args) => {
    const p = requireProvider()
    const timeoutMs = args.timeout_ms ?? 10000
    await waitUntil(() => p.synced, timeoutMs, 'the provider to sync')
    return null
  },
  insert: (args) => {
    const text = textOf(args)
    const index = requireInt(args, 'index')
    if (index > text.length) {
      throw new Error(`index ${index} is past the end (length ${text.length})`)
    }
    text.insert(index, requireString(args, 'text'))
    return null
  },
  delete: (args) => {
    const text = textOf(args)
    const index = requireInt(args, 'index')
    const length = requireInt(args, 'length')
    if (index + length > text.length) {
      throw new Error(`range ${index}+${length} is past the end (length ${text.length})`)
    }
    text.delete(index, length)
    return null
  },
  text: (args) => textOf(args).toString(),
  set_awareness: (args) => {
    requireProvider().awareness.setLocalState(args.state ?? null)
    return null
  },
  set_awareness_field: (args) => {
    requireProvider().awareness.setLocalStateField(requireString(args, 'field'), args.value)
    return null
  },
  awareness: () => {
    const states = {}
    for (const [clientId, state] of requireProvider().awareness.getStates()) {
      states[String(clientId)] = state
    }
    return states
  },
  sync_status: () => {
    const status = requireProvider().syncStatus
    if (status === undefined) throw new Error('this y-websocket has no sync status')
    return { status: status.status, local_updates_synced: status.localUpdatesSynced }
  },
  state_vector: () => toBase64(Y.encodeStateVector(ydoc)),
  full_state: () => toBase64(Y.encodeStateAsUpdate(ydoc)),
  apply_update: (args) => {
    // A local origin, so that the provider sends the change to the server.
    Y.applyUpdate(ydoc, fromBase64(requireString(args, 'base64')), 'yclient')
    return null
  },
  // A TipTap paragraph at the end of the `default` XmlFragment, as y-prosemirror writes one:
  // a Y.XmlElement('paragraph') holding a Y.XmlText whose runs carry the marks as formatting
  // attributes, e.g. {"runs": [{"text": "here", "attributes": {"link": {"href": "..."}}}]}.
  append_paragraph: (args) => {
    if (!Array.isArray(args.runs)) throw new Error('"runs" must be an array')
    const fragment = ydoc.getXmlFragment('default')
    ydoc.transact(() => {
      const paragraph = new Y.XmlElement('paragraph')
      const text = new Y.XmlText()
      paragraph.insert(0, [text])
      fragment.insert(fragment.length, [paragraph])
      let at = 0
      for (const run of args.runs) {
        const value = requireString(run, 'text')
        text.insert(at, value, run.attributes ?? {})
        at += value.length
      }
    }, 'yclient')
    return null
  },
  // What a browser makes of an address: the WHATWG URL parser's scheme (`protocol`) for
  // `href` read against `base`, or null when it does not parse.
  url_protocol: (args) => {
    try {
      return new URL(requireString(args, 'href'), requireString(args, 'base')).protocol
    } catch {
      return null
    }
  },
  disconnect: () => {
    requireProvider().disconnect()
    return null
  },
  reconnect: () => {
    requireProvider().connect()
    return null
  },
  close: () => {
    shutdown(0)
    return null
  }
}

let closing = false
const shutdown = (status) => {
  if (closing) return
  closing = true
  // Let the reply to "close" reach stdout first.
  setImmediate(() => {
    if (provider !== null) provider.destroy()
    ydoc.destroy()
    process.exit(status)
  })
}

const handle = async (line) => {
  let request
  try {
    request = JSON.parse(line)
  } catch (error) {
    write({ id: null, ok: false, error: `not JSON: ${error.message}` })
    return
  }
  const id = request.id ?? null
  const command = commands[request.cmd]
  if (command === undefined) {
    write({ id, ok: false, error: `unknown command ${JSON.stringify(request.cmd)}` })
    return
  }
  try {
    const result = await command(request)
    write({ id, ok: true, result: result ?? null })
  } catch (error) {
    write({ id, ok: false, error: String(error?.message ?? error) })
  }
}

process.on('uncaughtException', (error) => {
  emit('fatal', { message: String(error?.stack ?? error) })
  process.exit(1)
})
process.on('unhandledRejection', (error) => {
  emit('fatal', { message: String(error?.stack ?? error) })
  process.exit(1)
})

const input = readline.createInterface({ input: process.stdin, terminal: false })
input.on('line', (line) => {
  if (line.trim() !== '') void handle(line)
})
input.on('close', () => shutdown(0))
emit('ready', { pid: process.pid })
