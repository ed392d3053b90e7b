// Whether everything in this browser's copy of a document is committed on the server.
//
// The server only ever sends committed state (durable before visible), so everything it sends
// tells us what it holds: its sync step 1 (its state vector), its sync step 2 and updates
// (their clocks and their deletions), and its Saved acknowledgements (message 100: the state
// vector after a commit that held our updates). The copy is saved when
//   - every client's clock in the local state vector is covered by the server's, and
//   - every deletion made here has come back from the server.
// Deletions need the second rule because a Yjs deletion does not advance any clock: comparing
// state vectors alone would call "Saved" a deletion the server never received.
import * as Y from 'yjs'

type Ranges = Array<[number, number]>

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
  private readonly pendingDeletes = new Map<number, Ranges>()

  /** A state vector the server holds (its sync step 1, or a Saved acknowledgement). */
  serverVector(vector: Map<number, number>): void {
    for (const [client, clock] of vector) {
      if ((this.server.get(client) ?? 0) < clock) this.server.set(client, clock)
    }
  }

  /** An update the server sent (sync step 2 or update): committed content. */
  serverUpdate(update: Uint8Array): void {
    // Where each client's structs end. (Y.encodeStateVectorFromUpdate would not do: it counts
    // only clients whose structs start at clock 0, and an update usually starts later.) The
    // server's state has no gaps, so it holds everything before those ends too.
    this.serverVector(Y.parseUpdateMeta(update).to)
    for (const [client, items] of Y.decodeUpdate(update).ds.clients) {
      let ranges = this.pendingDeletes.get(client)
      if (ranges === undefined) continue
      for (const item of items) ranges = subtract(ranges, item.clock, item.clock + item.len)
      if (ranges.length) this.pendingDeletes.set(client, ranges)
      else this.pendingDeletes.delete(client)
    }
  }

  /** An update made in this browser (typing, or a copy restored from IndexedDB). */
  localUpdate(update: Uint8Array): void {
    for (const [client, items] of Y.decodeUpdate(update).ds.clients) {
      const ranges = this.pendingDeletes.get(client) ?? []
      for (const item of items) ranges.push([item.clock, item.clock + item.len])
      this.pendingDeletes.set(client, ranges)
    }
  }

  /** Whether the server holds everything in ``doc``. */
  covers(doc: Y.Doc): boolean {
    if (this.pendingDeletes.size > 0) return false
    for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
      if ((this.server.get(client) ?? 0) < clock) return false
    }
    return true
  }
}
