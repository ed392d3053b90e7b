// One document's live copy in this browser: a Y.Doc kept in IndexedDB (edits survive a reload
// while offline) and synced by the stock y-websocket provider, with GESS's own messages
// handled on that same socket: 100 Saved (a state vector after a commit) and 101 Event (JSON).
import * as decoding from 'lib0/decoding'
import type * as encoding from 'lib0/encoding'
import { IndexeddbPersistence } from 'y-indexeddb'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { documentStoreName } from '../local-data'
import { SavedTracker } from './saved'

const SYNC = 0
const SAVED = 100
const EVENT = 101
/** The server's "slow down" (too many messages, a reader too far behind, too many sockets for
 * one account): a 44xx, after which the provider stops, but a new connection resyncs. */
const LIMITED = 4429
const FIRST_RETRY_MS = 1000
const LAST_RETRY_MS = 30000

export type SaveState = 'connecting' | 'offline' | 'saving' | 'saved'
export type ServerEvent = { type: string } & Record<string, unknown>

export interface Callbacks {
  /** The saved state changed. */
  state(state: SaveState): void
  /**
   * Whether this browser holds changes the server has not acknowledged while there is no
   * connection to send them on ("kept on this device": in IndexedDB, sent on reconnecting).
   */
  kept(kept: boolean): void
  /** A server event (type 101) arrived, e.g. ``access`` after a role change. */
  event(event: ServerEvent): void
  /** The server closed for good (44xx but 4429): not signed in, no access, no document... */
  closed(code: number, reason: string): void
}

type Handler = (
  encoder: encoding.Encoder,
  decoder: decoding.Decoder,
  provider: WebsocketProvider,
  emitSynced: boolean,
  messageType: number,
) => void

export class DocumentConnection {
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  private readonly persistence: IndexeddbPersistence
  private readonly tracker = new SavedTracker()
  /** Set once a connection opened or failed: from then on, not connected means offline. */
  private everConnected = false
  private scheduled = false
  private last: SaveState | null = null
  private lastKept: boolean | null = null
  /** After a 4429: the pause before the next connection, doubled while they keep failing. */
  private retryMs = FIRST_RETRY_MS
  private retryTimer: ReturnType<typeof setTimeout> | null = null

  /** ``userId``: whose copy this is (null for a guest); each person has their own. */
  constructor(
    readonly documentId: string,
    userId: string | null,
    private readonly callbacks: Callbacks,
  ) {
    this.persistence = new IndexeddbPersistence(documentStoreName(userId, documentId), this.doc)
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    // The provider puts the room name into the URL as it is: encode it, so that an anonymous
    // room named e.g. 'a?b#c' reaches the server whole (the server decodes the path).
    this.provider = new WebsocketProvider(`${scheme}//${location.host}/ws`, encodeURIComponent(documentId), this.doc, {
      params: { saved: '1', events: '1' },
      // Another tab's copy is not the server's: only the server may say "saved".
      disableBc: true,
    })
    const handlers = this.provider.messageHandlers as Handler[]
    const sync = handlers[SYNC] as Handler
    handlers[SYNC] = (encoder, decoder, provider, emitSynced, type) => {
      this.observeSync(decoding.clone(decoder))
      sync(encoder, decoder, provider, emitSynced, type)
      this.schedule()
    }
    handlers[SAVED] = (_encoder, decoder) => {
      this.tracker.serverVector(Y.decodeStateVector(decoding.readVarUint8Array(decoder)))
      this.schedule()
    }
    handlers[EVENT] = (_encoder, decoder) => {
      let event: ServerEvent
      try {
        event = JSON.parse(decoding.readVarString(decoder)) as ServerEvent
      } catch {
        return
      }
      this.callbacks.event(event)
    }
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this.provider) this.tracker.localUpdate(update, this.doc)
      this.schedule()
    })
    this.provider.on('status', ({ status }) => {
      if (status === 'connected') this.everConnected = true
      this.schedule()
    })
    this.provider.on('connection-close', () => {
      this.everConnected = true
      this.schedule()
    })
    this.provider.on('closed', ({ code, reason }) => {
      if (code === LIMITED) this.retryLater()
      else this.callbacks.closed(code, reason)
    })
    this.provider.on('sync', (synced: boolean) => {
      if (synced) this.retryMs = FIRST_RETRY_MS
    })
    // The browser knows before the socket does that the network is gone (a socket may take
    // half a minute to notice): stop at once, so the page says "offline", and start again
    // as soon as the network is back instead of waiting out the provider's back-off.
    window.addEventListener('offline', this.wentOffline)
    window.addEventListener('online', this.cameOnline)
  }

  private readonly wentOffline = (): void => this.provider.disconnect()
  private readonly cameOnline = (): void => this.provider.connect()

  private stopListening(): void {
    window.removeEventListener('offline', this.wentOffline)
    window.removeEventListener('online', this.cameOnline)
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
  }

  /** Connects again after a pause: meanwhile the page is "offline" and edits are kept here. */
  private retryLater(): void {
    if (this.retryTimer !== null) return
    const pause = this.retryMs
    this.retryMs = Math.min(pause * 2, LAST_RETRY_MS)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.provider.connect()
    }, pause)
    this.schedule()
  }

  private observeSync(decoder: decoding.Decoder): void {
    const kind = decoding.readVarUint(decoder)
    const payload = decoding.readVarUint8Array(decoder)
    if (kind === 0) this.tracker.serverVector(Y.decodeStateVector(payload))
    else this.tracker.serverUpdate(payload)
  }

  /** Recomputes the saved state once per task, however many messages arrived. */
  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      const state = this.state()
      if (state !== this.last) {
        this.last = state
        this.callbacks.state(state)
      }
      const kept = !this.provider.wsconnected && !this.tracker.covers(this.doc)
      if (kept !== this.lastKept) {
        this.lastKept = kept
        this.callbacks.kept(kept)
      }
    })
  }

  state(): SaveState {
    if (!this.provider.wsconnected) return this.everConnected ? 'offline' : 'connecting'
    return this.provider.synced && this.tracker.covers(this.doc) ? 'saved' : 'saving'
  }

  /** Stops syncing; the IndexedDB copy stays for next time. */
  destroy(): void {
    this.stopListening()
    this.provider.destroy()
    void this.persistence.destroy()
    this.doc.destroy()
  }

  /** Stops syncing and forgets this browser's copy (the server refused some of its edits). */
  async discard(): Promise<void> {
    this.stopListening()
    this.provider.destroy()
    await this.persistence.clearData()
    this.doc.destroy()
  }
}
