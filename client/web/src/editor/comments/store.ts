// The threads of one document in this browser: read over REST, then kept up to date by the
// server's ``thread.*`` and ``comment.*`` events, each of which carries the whole thread.
import { get } from '../../api'
import type { Page, Thread } from '../../types'
import type { ServerEvent } from '../connection'

export class ThreadStore {
  private readonly threads = new Map<string, Thread>()
  /** Events that arrive during a load, applied after it (they are as new as it, or newer). */
  private queued: ServerEvent[] | null = null
  private again = false
  private readonly listeners = new Set<() => void>()

  constructor(private readonly documentId: string) {}

  all(): Thread[] {
    return [...this.threads.values()]
  }

  get(id: string): Thread | undefined {
    return this.threads.get(id)
  }

  subscribe(listener: () => void): void {
    this.listeners.add(listener)
  }

  /** Reads every thread again (on opening, and each time the socket is back: events sent
   * while it was away are not sent again). */
  async load(): Promise<void> {
    if (this.queued !== null) {
      // One is under way, but it may have read before the socket was in: read again after.
      this.again = true
      return
    }
    this.queued = []
    try {
      const found: Thread[] = []
      let cursor: string | null = null
      do {
        const after: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
        const page: Page<Thread> = await get<Page<Thread>>(`/api/documents/${encodeURIComponent(this.documentId)}/threads?limit=100${after}`)
        found.push(...page.items)
        cursor = page.next_cursor
      } while (cursor !== null)
      this.threads.clear()
      for (const thread of found) this.threads.set(thread.id, thread)
    } finally {
      const queued = this.queued
      this.queued = null
      for (const event of queued) this.apply(event)
      this.changed()
    }
    if (this.again) {
      this.again = false
      await this.load()
    }
  }

  /** Takes a server event; false if it is not about threads. */
  event(event: ServerEvent): boolean {
    if (!event.type.startsWith('thread.') && !event.type.startsWith('comment.')) return false
    if (event.document_id !== this.documentId) return true
    if (this.queued !== null) this.queued.push(event)
    else {
      this.apply(event)
      this.changed()
    }
    return true
  }

  /** A thread as the server answered a change made here (its event may come later). */
  put(thread: Thread): void {
    this.threads.set(thread.id, thread)
    this.changed()
  }

  remove(id: string): void {
    if (this.threads.delete(id)) this.changed()
  }

  private apply(event: ServerEvent): void {
    const thread = event.thread as Thread | undefined
    if (thread === undefined || typeof thread.id !== 'string') return
    if (event.type === 'thread.deleted') this.threads.delete(thread.id)
    else this.threads.set(thread.id, thread)
  }

  private changed(): void {
    for (const listener of this.listeners) listener()
  }
}
