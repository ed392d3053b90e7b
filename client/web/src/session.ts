// The one session object: who is signed in, read once from /api/me and updated on sign-in
// and sign-out.
import { ApiError, get, post } from './api'
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

export async function signOut(): Promise<void> {
  try {
    await post('/api/auth/logout')
  } finally {
    current = null
  }
}
