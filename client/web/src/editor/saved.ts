// Whether everything in this browser's copy of a document is committed on the server.
//
// The server only ever sends committed state (durable before visible), so everything it sends
// tells us what it holds: its sync step 1 (its state vector), its sync step 2 and updates
// (their clocks and their deletions), and its Saved acknowledgements (message 100: the state
// vector after a commit that held our updates). The copy is saved when
//   - every client's clock in the local state vector is covered by the server's, and
//   - every deletion made here is known to be committed.
// Deletions need the second rule because a Yjs deletion does not advance any clock: comparing
// state vectors alone would call "Saved" a deletion the server never received. A deletion is
// known to be committed when the server sends it back (its updates carry their deletions), or
// when the server acknowledges a clock of ours from the same update or a later one: the
// server stores each update whole and a connection's updates in the order they were sent.
import * as Y from 'yjs'

type Ranges = Array<[number, number]>

interface PendingDeletes {
  /** Still unconfirmed deleted ranges, by client. */
  ranges: Map<number, Ranges>
  /** The local client, and the clock an acknowledgement must reach to confirm them. */
  client: number
  until: number
}

function subtract(ranges: Ranges, start: number, end: number): Ranges {
  const left: Ranges = []
  for (const [from, to] of ranges) {
    if (to <= start || from >= end) left.push([from, to])
    else {
      if (from < start) left.push([from, start])
      if (to > end) left.push([end, to])
    }
  }
  return left
}

export class SavedTracker {
  private readonly server = new Map<number, number>()
  private pending: PendingDeletes[] = []

  /** A state vector the server holds (its sync step 1, or a Saved acknowledgement). */
  serverVector(vector: Map<number, number>): void {
    for (const [client, clock] of vector) {
      if ((this.server.get(client) ?? 0) < clock) this.server.set(client, clock)
    }
    this.pending = this.pending.filter((entry) => (this.server.get(entry.client) ?? 0) < entry.until)
  }

  /** An update the server sent (sync step 2 or update): committed content. */
  serverUpdate(update: Uint8Array): void {
    // Where each client's structs end. (Y.encodeStateVectorFromUpdate would not do: it counts
    // only clients whose structs start at clock 0, and an update usually starts later.) The
    // server's state has no gaps, so it holds everything before those ends too.
    this.serverVector(Y.parseUpdateMeta(update).to)
    const deleted = Y.decodeUpdate(update).ds.clients
    if (deleted.size === 0) return
    for (const entry of this.pending) {
      for (const [client, items] of deleted) {
        let ranges = entry.ranges.get(client)
        if (ranges === undefined) continue
        for (const item of items) ranges = subtract(ranges, item.clock, item.clock + item.len)
        if (ranges.length) entry.ranges.set(client, ranges)
        else entry.ranges.delete(client)
      }
    }
    this.pending = this.pending.filter((entry) => entry.ranges.size > 0)
  }

  /**
   * An update made in this browser (typing, or a copy restored from IndexedDB), after ``doc``
   * applied it.
   */
  localUpdate(update: Uint8Array, doc: Y.Doc): void {
    const deleted = Y.decodeUpdate(update).ds.clients
    if (deleted.size === 0) return
    const ranges = new Map<number, Ranges>()
    for (const [client, items] of deleted) {
      ranges.set(client, items.map((item): [number, number] => [item.clock, item.clock + item.len]))
    }
    const client = doc.clientID
    const clock = Y.getState(doc.store, client)
    // With structs of ours in the update, acknowledging its last clock confirms it whole;
    // a deletion alone is confirmed by the acknowledgement of anything typed after it.
    const until = Y.parseUpdateMeta(update).to.has(client) ? clock : clock + 1
    this.pending.push({ ranges, client, until })
  }

  /** Whether the server holds everything in ``doc``. */
  covers(doc: Y.Doc): boolean {
    if (this.pending.length > 0) return false
    for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
      if ((this.server.get(client) ?? 0) < clock) return false
    }
    return true
  }
}
