// The load generator's commands for people rather than pumps: clients typing at human pace in
// many rooms at once (each client both writes and reads), and clients that lose their server and
// reconnect to it, re-seeding it from their own documents as Yjs clients do.
//
// `worker.mjs` merges these commands into its own; `ctx` gives them its clients and helpers.
//
// Typing: every typist inserts exactly `chunk` characters per keystroke, so a typist's clock in
// another client's state vector, divided by `chunk`, counts the keystrokes that client holds.
// Every client of a room records what arrives (arrival time and raw message, decoded later, as
// `record` does) and tracks the room's typists other than itself. A keystroke's send time is
// kept by the worker of its typist; `typed` takes the send times of typists in other workers.

/**
 * @param {{get: (key: string) => any, clients: Map<string, any>, now: () => number,
 *   sleep: (ms: number) => Promise<void>, chunkText: (seq: number, chunk: number) => string,
 *   mulberry32: (seed: number) => () => number}} ctx
 */
const CLOSED = 3 // WebSocket.CLOSED

export const sessionCommands = (ctx) => {
  const { get, now, sleep, chunkText, mulberry32 } = ctx
  /** @type {Map<number, number[]>} send times of this worker's typists, by Yjs client id */
  const sendLog = new Map()
  /** @type {Map<string, {chunk: number, writers: Array<{id: number, base: number, arrivals: number[]}>}>} */
  const tracks = new Map()

  const catchUp = (key) => {
    const client = get(key)
    const track = tracks.get(key)
    const records = client.records
    client.records = []
    for (let i = 0; i < records.length; i += 2) {
      client.handle(records[i + 1])
      for (const writer of track.writers) {
        const have = Math.floor(client.clock(writer.id) / track.chunk) - writer.base
        while (writer.arrivals.length < have) writer.arrivals.push(records[i])
      }
    }
  }

  return {
    /**
     * Type in rooms for `duration_ms`: each typist inserts `chunk` characters at its end of the
     * text, then waits a random `min_ms`..`max_ms` (the first wait is random in 0..`max_ms`, so
     * typists do not start in step). `rooms`: `{keys, typists, writers}`: this worker's clients
     * of the room (all record), those of them that type, and the Yjs client ids of every typist
     * of the room in any worker. Returns the keystrokes sent, and their send times if asked.
     */
    async type ({ rooms, duration_ms: durationMs, min_ms: minMs, max_ms: maxMs, chunk, seed = 1, return_times: returnTimes = false }) {
      const rand = mulberry32(seed)
      for (const room of rooms) {
        for (const key of room.keys) {
          const client = get(key)
          const own = client.ydoc.clientID
          const writers = room.writers
            .filter((id) => id !== own)
            .map((id) => ({ id, base: Math.floor(client.clock(id) / chunk), arrivals: [] }))
          tracks.set(key, { chunk, writers })
          client.records = []
          client.recording = true
        }
      }
      const started = now()
      const end = started + durationMs
      const typist = async (key) => {
        const client = get(key)
        const times = []
        sendLog.set(client.ydoc.clientID, times)
        let wait = rand() * maxMs
        let seq = 0
        while (now() + wait < end) {
          await sleep(wait)
          times.push(now())
          client.text.insert(client.text.length, chunkText(seq++, chunk))
          wait = minMs + rand() * (maxMs - minMs)
        }
        return times
      }
      const keys = rooms.flatMap((room) => room.typists)
      const all = await Promise.all(keys.map(typist))
      const sent = all.reduce((sum, times) => sum + times.length, 0)
      const result = { sent, wall_ms: now() - started }
      if (returnTimes) {
        result.send_times = Object.fromEntries(keys.map((key, i) => [get(key).ydoc.clientID, all[i]]))
      }
      return result
    },

    /**
     * Keystrokes the clients of `keys` still lack (decoding what arrived so far). `sent` gives
     * the keystroke counts of typists of other workers (by Yjs client id).
     */
    async typing_progress ({ keys, sent = {} }) {
      let missing = 0
      for (const key of keys) {
        catchUp(key)
        for (const writer of tracks.get(key).writers) {
          const count = sendLog.get(writer.id)?.length ?? sent[String(writer.id)] ?? 0
          missing += Math.max(0, count - writer.arrivals.length)
        }
      }
      return { missing }
    },

    /**
     * Stop recording at `keys`; latency of every tracked keystroke at every one of them.
     * `send_times` adds the send times of typists of other workers (by Yjs client id).
     */
    async typed ({ keys, send_times: remote = {} }) {
      const latencies = []
      let lost = 0
      let lastArrival = 0
      for (const key of keys) {
        catchUp(key)
        const client = get(key)
        for (const writer of tracks.get(key).writers) {
          const sendTimes = sendLog.get(writer.id) ?? remote[String(writer.id)] ?? []
          const n = Math.min(writer.arrivals.length, sendTimes.length)
          for (let seq = 0; seq < n; seq++) latencies.push(writer.arrivals[seq] - sendTimes[seq])
          lost += sendTimes.length - n
          if (n > 0) lastArrival = Math.max(lastArrival, writer.arrivals[n - 1])
        }
        client.recording = false
        tracks.delete(key)
      }
      return { latencies, lost, last_arrival: lastArrival }
    },

    /** Each client inserts its own key and a semicolon once, so every client has content. */
    async stamp ({ keys }) {
      for (const key of keys) {
        const client = get(key)
        client.text.insert(client.text.length, `${key};`)
      }
      return null
    },

    /**
     * Reconnect every client of `keys` at the same moment (their documents kept, as a provider
     * keeps its Y.Doc). A failed attempt is retried after the y-websocket provider's backoff:
     * 100 ms × 2^n after its n-th unsuccessful connection, the drop itself counting as the
     * first (so 400 ms after the first failed attempt), capped at `max_backoff_ms`, until
     * `deadline_ms` from the start. The sync answers the server's step 1 with what it lacks,
     * which re-seeds a server that forgot the document.
     */
    async reconnect ({ keys, max_backoff_ms: maxBackoff = 2500, deadline_ms: deadlineMs = 60000, timeout_ms: timeoutMs = 30000 }) {
      const started = now()
      const synced = []
      const failed = []
      let retried = 0
      const one = async (key) => {
        const client = get(key)
        for (let attempt = 0; ; attempt++) {
          const old = client.ws
          if (old !== null && old.readyState !== CLOSED) {
            // Its close handler must run before the next attempt starts, not during it.
            await new Promise((resolve) => { old.once('close', resolve); old.terminate() })
          }
          client.synced = false
          client.closed = false
          client.error = null
          const left = started + deadlineMs - now()
          const ms = await client.connect(Math.max(1, Math.min(timeoutMs, left)))
          if (ms !== null) {
            synced.push(now() - started)
            return
          }
          if (attempt === 0) retried++
          const backoff = Math.min(100 * 2 ** (attempt + 2), maxBackoff)
          if (now() + backoff >= started + deadlineMs) {
            failed.push({ key, error: client.error })
            return
          }
          await sleep(backoff)
        }
      }
      await Promise.all(keys.map(one))
      return { synced_ms: synced, failed, retried, wall_ms: now() - started }
    }
  }
}
