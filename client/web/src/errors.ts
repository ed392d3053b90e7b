// What to tell a person when a call fails: the server's own sentence, or ours when the server
// could not be reached.
import { ApiError } from './api'
import { t } from './i18n'

export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'network') return t('error.network')
    if (error.message) return error.message
  }
  return t('error.unknown')
}
