// Client-side navigation: the server answers every app URL with the same page, and this picks
// what to draw from location.pathname.

type Render = (params: string[]) => Promise<(() => void) | void>
interface RouteDef {
  pattern: RegExp
  render: Render
}

const routes: RouteDef[] = []
let cleanup: (() => void) | void = undefined
let drawing = 0

export function route(pattern: RegExp, render: Render): void {
  routes.push({ pattern, render })
}

/** Goes to ``path`` (a same-origin path) and draws it. */
export function navigate(path: string, replaceEntry = false): void {
  if (replaceEntry) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  void draw()
}

/** Draws the current URL; the previous page's cleanup (sockets, editors) runs first. */
export async function draw(): Promise<void> {
  const number = ++drawing
  if (cleanup) cleanup()
  cleanup = undefined
  const path = location.pathname
  for (const { pattern, render } of routes) {
    const match = pattern.exec(path)
    if (match) {
      const done = await render(match.slice(1).map(decodePart))
      if (number === drawing) cleanup = done
      else if (done) done()
      return
    }
  }
}

/** Same-origin links navigate without reloading the page. */
export function interceptLinks(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const link = (event.target as Element | null)?.closest('a')
    if (!link || link.hasAttribute('download') || link.target) return
    const url = new URL(link.href)
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return
    event.preventDefault()
    navigate(url.pathname + url.search)
  })
  window.addEventListener('popstate', () => void draw())
}

/** A path part as typed: percent-escapes decoded, and a stray '%' kept as it is. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}
