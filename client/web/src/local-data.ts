// What this browser keeps of GESS between visits: the offline copies of documents, in
// IndexedDB, and what the editor needs to open them without a network (who is signed in, the
// document's title and the person's role), in localStorage. Ministry staff share computers, so each copy belongs to one person (its name holds
// the account's id) and signing out deletes them all: the next person to sign in on this browser
// can neither see nor send the previous person's unsent edits.

const PREFIX = 'gess-'

/**
 * The IndexedDB database holding ``documentId``'s offline copy for ``userId`` (null: a guest in
 * ``--anonymous`` mode). Distinct people never share a copy of the same document.
 */
export function documentStoreName(userId: string | null, documentId: string): string {
  const owner = userId === null ? 'guest' : `user:${encodeURIComponent(userId)}`
  return `${PREFIX}doc:${owner}:${documentId}`
}

/**
 * Keeps ``value`` in this browser under ``key`` (for one person: the key should name them),
 * so a page can be drawn again without a network. Deleted with everything else on sign-out.
 */
export function remember(key: string, value: unknown): void {
  try {
    localStorage.setItem(`${PREFIX}${key}`, JSON.stringify(value))
  } catch {
    // A full or disabled storage only costs the offline start.
  }
}

/** What :func:`remember` kept under ``key``, or null. */
export function remembered<T>(key: string): T | null {
  const text = localStorage.getItem(`${PREFIX}${key}`)
  if (text === null) return null
  try {
    return JSON.parse(text) as T
  } catch {
    return null
  }
}

/**
 * Deletes every GESS database in this browser (this person's copies, and any left by older
 * builds that keyed copies by document only) and everything :func:`remember` kept. Resolves once all are gone; a database still
 * open (an editor not yet closed) is deleted as soon as it closes.
 */
export async function forgetEverything(): Promise<void> {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(PREFIX)) localStorage.removeItem(key)
  }
  const databases = await indexedDB.databases()
  await Promise.all(
    databases
      .map((database) => database.name)
      .filter((name): name is string => name !== undefined && name.startsWith(PREFIX))
      .map(
        (name) =>
          new Promise<void>((resolve) => {
            const request = indexedDB.deleteDatabase(name)
            request.onsuccess = () => resolve()
            request.onerror = () => resolve()
          }),
      ),
  )
}
