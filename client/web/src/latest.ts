// Answers to reads can arrive out of order: a read started before a change may answer after
// one started after it. A panel that draws whatever answers last would then show the older
// state (seen: a document created by someone else appeared in the activity feed but not in the
// list, because the list's earlier read answered last). `latestOnly` draws only the answer of
// the most recent call; an older answer that arrives later is dropped.

export function latestOnly<T>(read: () => Promise<T>, draw: (value: T) => void): () => Promise<void> {
  let generation = 0
  return async () => {
    const mine = ++generation
    const value = await read()
    if (mine === generation) draw(value)
  }
}
