// The service worker: keeps the app shell (the page every app URL answers, and the build's
// content-hashed assets) so that an app URL visited once opens without a network; the document
// itself then comes from this browser's IndexedDB copy. It never answers the API or the
// document socket from its cache: what they say must come from the server.
//
// build.mjs builds this file on its own into server/static/sw.js and fills in SHELL (the
// build's assets) and BUILD (a digest of their names): a new build is a new worker, whose
// cache replaces the old one when it takes over.

declare const SHELL: string[]
declare const BUILD: string

// The worker's own events, typed here: the DOM library this app compiles against has none.
interface LifecycleEvent extends Event {
  waitUntil(work: Promise<unknown>): void
}
interface ShellFetchEvent extends LifecycleEvent {
  readonly request: Request
  respondWith(response: Promise<Response>): void
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (event: LifecycleEvent) => void): void
  addEventListener(type: 'fetch', listener: (event: ShellFetchEvent) => void): void
  skipWaiting(): Promise<void>
  readonly clients: { claim(): Promise<void> }
  readonly location: Location
}

const worker = self as unknown as WorkerScope
const PREFIX = 'gess-shell-'
const CACHE = `${PREFIX}${BUILD}`
/** The page: the server answers it at every app URL. */
const PAGE = '/'
/** The URLs the app draws itself (server/webapp.py's APP_PATHS). */
const APP_URL = /^\/(?:$|login\/?$|register\/?$|invite\/|w\/|d\/)/

worker.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([PAGE, ...SHELL]))
      .then(() => worker.skipWaiting()),
  )
})

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith(PREFIX) && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => worker.clients.claim()),
  )
})

/** Hashed assets never change: the cached copy is the right one. */
async function asset(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE)
  const kept = await cache.match(request)
  if (kept) return kept
  const response = await fetch(request)
  if (response.ok) await cache.put(request, response.clone())
  return response
}

/** The page from the server when it answers (a new build shows at once), else the kept one. */
async function page(request: Request): Promise<Response> {
  try {
    const response = await fetch(request)
    if (response.ok) {
      const cache = await caches.open(CACHE)
      await cache.put(PAGE, response.clone())
    }
    return response
  } catch (error) {
    const kept = await caches.match(PAGE, { cacheName: CACHE })
    if (kept) return kept
    throw error
  }
}

worker.addEventListener('fetch', (event) => {
  const request = event.request
  const url = new URL(request.url)
  if (request.method !== 'GET' || url.origin !== worker.location.origin) return
  if (url.pathname.startsWith('/assets/')) event.respondWith(asset(request))
  else if (request.mode === 'navigate' && APP_URL.test(url.pathname)) event.respondWith(page(request))
  // Anything else (the API, /ws/, this worker's own script) goes to the network untouched.
})
