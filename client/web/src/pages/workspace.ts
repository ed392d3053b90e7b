// "/w/{id}": the workspace's documents, members and activity. The activity feed, the document
// list and the member list follow what others do, through server events.
import { get } from '../api'
import { append, h } from '../dom'
import { describe } from '../errors'
import { t, type Key } from '../i18n'
import { notice, shell, showError, title } from '../layout'
import { listen, type ServerEvent } from '../live'
import { notificationBell } from '../notifications'
import { navigate } from '../router'
import { me } from '../session'
import type { DocumentInfo, Page, Workspace } from '../types'
import { activityPanel } from './activity'
import { documentsPanel } from './documents'
import { membersPanel } from './members'

export async function workspacePage([id = '']: string[]): Promise<(() => void) | void> {
  const user = await me()
  if (!user) {
    navigate(`/login?next=${encodeURIComponent(location.pathname)}`, true)
    return
  }
  // Events reach the sockets of a workspace's documents: listen on the most recent one, and
  // move when it goes (trashed) or a document appears.
  let stop: (() => void) | null = null
  let listeningTo: string | null = null
  let closed = false
  let activity: ReturnType<typeof activityPanel> | null = null
  let documents: ReturnType<typeof documentsPanel> | null = null
  let members: ReturnType<typeof membersPanel> | null = null
  const bell = notificationBell(user)
  const onEvent = (event: ServerEvent): void => {
    bell.event(event)
    if (event.type !== 'activity') return
    void activity?.refresh()
    const verb = String((event.activity as { verb?: string } | undefined)?.verb ?? '')
    if (verb.startsWith('document.')) documents?.refresh().then(follow).catch(() => undefined)
    if (verb.startsWith('member.')) void members?.refresh()
  }
  const follow = async (): Promise<void> => {
    const page = await get<Page<DocumentInfo>>(`/api/workspaces/${id}/documents?limit=1`)
    const newest = page.items[0]?.id ?? null
    if (closed || newest === listeningTo) return
    stop?.()
    listeningTo = newest
    stop = newest === null ? null : listen(newest, onEvent, () => {
      listeningTo = null
      follow().catch(() => undefined)
    }, () => {
      // Events sent before the socket was in were missed: read the panels again.
      void Promise.all([documents?.refresh(), members?.refresh(), activity?.refresh()]).catch(() => undefined)
    })
  }
  const main = shell(user, bell.element)
  let workspace: Workspace
  try {
    workspace = await get<Workspace>(`/api/workspaces/${id}`)
  } catch (error) {
    const status = notice()
    main.append(title(t('workspace.unavailable')), status)
    showError(status, describe(error))
    return () => bell.destroy()
  }
  activity = activityPanel(id)
  // What this person did shows at once; what others do arrives as events (below).
  const changed = (): void => {
    void activity?.refresh()
    follow().catch(() => undefined)
  }
  documents = documentsPanel(id, workspace.role, changed)
  members = membersPanel(id, workspace.role, user.id, changed)
  append(main,
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, t('home.title'))),
    h(
      'div',
      { class: 'page-head' },
      title(workspace.name),
      workspace.role ? h('span', { class: 'pill' }, t('workspace.your_role', { role: t(`role.${workspace.role}` as Key) })) : null,
    ),
    workspace.description ? h('p', { class: 'lead' }, workspace.description) : null,
    h('div', { class: 'workspace-grid' }, documents.element, h('div', { class: 'side' }, members.element, activity.element)),
  )
  await Promise.all([documents.refresh(), members.refresh(), activity.refresh()])

  await follow()
  return () => {
    closed = true
    stop?.()
    bell.destroy()
  }
}
