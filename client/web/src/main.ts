// The app's entry: routes for every page. The editor (TipTap, Yjs) loads only on /d/ pages.
import { t } from './i18n'
import { loginPage, registerPage } from './pages/auth'
import { homePage } from './pages/home'
import { invitePage } from './pages/invite'
import { workspacePage } from './pages/workspace'
import { draw, interceptLinks, route } from './router'

route(/^\/login\/?$/, loginPage)
route(/^\/register\/?$/, registerPage)
route(/^\/invite\/([^/]+)\/?$/, invitePage)
route(/^\/w\/([^/]+)\/?$/, workspacePage)
// The rest of the path is the id: an anonymous room's name may contain '/' ("/d/team/notes").
route(/^\/d\/(.+?)\/?$/, async (params) => (await import('./editor/editor-page')).editorPage(params))
route(/^\/$/, homePage)
route(/.*/, async () => {
  document.title = t('not_found')
  const main = document.getElementById('app')
  if (main) main.textContent = t('not_found')
})

interceptLinks()
void draw()

// The app shell kept for offline use (src/sw.ts). Without it the app works the same, online.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch(() => undefined)
}
