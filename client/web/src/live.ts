// Server events for a page without an editor (the workspace page): a plain socket on one of
// the workspace's documents that asks only for GESS Event messages (type 101) and reads
// nothing else. It sends nothing, so it edits nothing and shows no presence.
import * as decoding from 'lib0/decoding'

const EVENT = 101

export type ServerEvent = { type: string } & Record<string, unknown>

/**
 * Listens until the returned function is called; reconnects after a dropped connection, and
 * calls ``onGone`` when the server closed for good (e.g. the document went to the trash).
 * ``onReady`` runs when the server has taken the socket in (its first message), each time:
 * what happened before then, the caller reads again over REST.
 */
export function listen(
  documentId: string,
  onEvent: (event: ServerEvent) => void,
  onGone: () => void,
  onReady: () => void,
): () => void {
  let socket: WebSocket | null = null
  let stopped = false
  let retry = 500
  const open = (): void => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    socket = new WebSocket(`${scheme}//${location.host}/ws/${encodeURIComponent(documentId)}?events=1`)
    socket.binaryType = 'arraybuffer'
    let ready = false
    socket.onopen = () => {
      retry = 500
    }
    socket.onmessage = (message) => {
      if (!ready) {
        ready = true
        onReady()
      }
      const decoder = decoding.createDecoder(new Uint8Array(message.data as ArrayBuffer))
      if (decoding.readVarUint(decoder) !== EVENT) return
      try {
        onEvent(JSON.parse(decoding.readVarString(decoder)) as ServerEvent)
      } catch {
        // A malformed event is the server's bug; the feed refreshes on the next one.
      }
    }
    socket.onclose = (close) => {
      // 44xx: the server decided (no access, document gone); retrying cannot help.
      if (stopped) return
      if (close.code >= 4400 && close.code < 4500) {
        onGone()
        return
      }
      setTimeout(open, retry)
      retry = Math.min(retry * 2, 5000)
    }
  }
  open()
  return () => {
    stopped = true
    socket?.close()
  }
}
