// The one session object: who is signed in, read once from /api/me and updated on sign-in
// and sign-out.
import { ApiError, get, post } from './api'
import { forgetEverything } from './local-data'
import type { User } from './types'

let current: User | null | undefined

/** The signed-in account, or null (asks the server the first time). */
export async function me(): Promise<User | null> {
  if (current === undefined) {
    try {
      current = await get<User>('/api/me')
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error
      current = null
    }
  }
  return current
}

export function signedIn(user: User): void {
  current = user
}

/**
 * Ends the session on the server, then ``leave``s the current page (which closes any open
 * document) and deletes everything this browser kept for the person: the next person on this
 * computer starts clean. If the server could not end the session, this throws and nothing
 * local is deleted (the person is still signed in and may hold unsent edits).
 */
export async function signOut(leave: () => void): Promise<void> {
  await post('/api/auth/logout')
  current = null
  leave()
  await forgetEverything()
}
