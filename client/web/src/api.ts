// The REST API over fetch: the session cookie authenticates, and every state-changing call
// echoes the CSRF cookie in X-CSRF-Token (the server refuses it otherwise).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

function csrfToken(): string {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === 'gess_csrf') return decodeURIComponent(rest.join('='))
  }
  return ''
}

/**
 * Calls the API and returns the decoded JSON body (undefined for 204).
 *
 * Throws ApiError with the server's code and message for every error answer, and with code
 * ``network`` when the server could not be reached.
 */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken()
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, 'network', '')
  }
  if (response.status === 204) return undefined as T
  const data: unknown = await response.json().catch(() => null)
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string } } | null)?.error
    throw new ApiError(response.status, error?.code ?? 'error', error?.message ?? response.statusText)
  }
  return data as T
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path)
export const post = <T>(path: string, body?: unknown): Promise<T> => call<T>('POST', path, body)
export const patch = <T>(path: string, body: unknown): Promise<T> => call<T>('PATCH', path, body)
export const del = (path: string): Promise<void> => call<void>('DELETE', path)
