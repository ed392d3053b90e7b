// The notification bell in the header: a button named with the unread count ("Notifications,
// 1 unread"), which opens the list of one's notifications. Each opens its document at the
// thread; one or all can be marked read. The count follows the server's ``notification``
// events on pages that have a socket (the editor, the workspace).
import { get, post } from './api'
import { h, replace } from './dom'
import { describe } from './errors'
import { currentLanguage, t, when, type Key } from './i18n'
import { navigate } from './router'
import type { Member, Notification, Page } from './types'

let bells = 0

/** A bell drawn as SVG: an emoji needs a font that not every computer has. */
function bellIcon(): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('width', '20')
  svg.setAttribute('height', '20')
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('focusable', 'false')
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path')
  path.setAttribute('d', 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z')
  path.setAttribute('fill', 'currentColor')
  svg.append(path)
  return svg
}

/** The bell's name for ``count`` unread, with the language's plural form. */
function named(count: number): string {
  const form = new Intl.PluralRules(currentLanguage()).select(count) === 'one' ? 'one' : 'other'
  return t(`bell.name.${form}` as Key, { count: count.toLocaleString(currentLanguage()) })
}

/** "<@USER_ID>" in an excerpt as "@Name" (``names``: the members of its workspace); an id
 * cut off by the end of the excerpt, or of someone who left, as "@…". */
function excerpt(text: string, names: ReadonlyMap<string, string>): string {
  return text.replace(/<@([0-9a-f]{1,32})>?/g, (_whole, id: string) => `@${names.get(id) ?? '…'}`)
}

export interface Bell {
  element: HTMLElement
  /** A server event: a ``notification`` updates the count (and the list, when open). */
  event(event: { type: string }): void
  destroy(): void
}

export function notificationBell(me: { id: string; name: string }): Bell {
  const id = `notifications-${++bells}`
  const label = h('span', { class: 'visually-hidden' })
  const count = h('span', { class: 'bell-count', 'aria-hidden': 'true' })
  const button = h(
    'button',
    { type: 'button', class: 'quiet bell', 'aria-expanded': 'false', 'aria-controls': id, onclick: () => void toggle() },
    bellIcon(),
    count,
    label,
  )
  const status = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' })
  const list = h('ul', { class: 'notification-list' })
  const readAll = h('button', { type: 'button', class: 'quiet small', onclick: () => void markAll() }, t('bell.read_all'))
  const panel = h(
    'section',
    { id, class: 'notifications', 'aria-labelledby': `${id}-heading`, hidden: true },
    h('div', { class: 'notifications-head' }, h('h2', { id: `${id}-heading` }, t('bell.title')), readAll),
    status,
    list,
  )
  // A button's name changing is not announced: a new notification is, politely.
  const announce = h('span', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' })
  const element = h('div', { class: 'bell-box' }, button, panel, announce)

  const show = (unread: number): void => {
    replace(label, named(unread))
    replace(count, unread > 0 ? unread.toLocaleString(currentLanguage()) : '')
    readAll.disabled = unread === 0
  }
  const refresh = async (): Promise<void> => {
    try {
      show((await get<{ unread: number }>('/api/notifications/unread-count')).unread)
    } catch {
      replace(label, t('bell.title'))
    }
    if (!panel.hidden) await fill()
  }
  const item = (notification: Notification): HTMLLIElement => {
    const href = `/d/${notification.document_id}?thread=${notification.thread_id}`
    const who = notification.actor?.name ?? t('activity.someone')
    const title = notification.document_title ?? ''
    return h(
      'li',
      { class: notification.read ? 'notification' : 'notification unread' },
      h(
        'a',
        {
          href,
          onclick: async (event) => {
            event.preventDefault()
            if (!notification.read) await post(`/api/notifications/${notification.id}/read`).catch(() => undefined)
            close()
            navigate(href)
          },
        },
        notification.read ? null : h('span', { class: 'visually-hidden' }, `${t('bell.unread')} `),
        t('bell.mentioned', { actor: who, title }),
      ),
      h('p', { class: 'muted' }, excerpt(notification.excerpt, names)),
      h('p', { class: 'muted' }, h('time', { datetime: notification.created_at }, when(notification.created_at))),
      notification.read
        ? null
        : h('button', { type: 'button', class: 'quiet small', onclick: () => void markOne(notification) }, t('bell.mark_read')),
    )
  }
  const names = new Map<string, string>([[me.id, me.name]])
  const known = new Set<string>()
  /** Learns the names of the members of the notifications' workspaces (once each). */
  const learn = async (items: Notification[]): Promise<void> => {
    const missing = [...new Set(items.map((item) => item.workspace_id))].filter((id) => !known.has(id))
    await Promise.all(
      missing.map(async (workspace) => {
        const page = await get<Page<Member>>(`/api/workspaces/${workspace}/members?limit=100`).catch(() => null)
        if (page === null) return
        known.add(workspace)
        for (const member of page.items) names.set(member.user_id, member.name)
      }),
    )
  }
  const fill = async (): Promise<void> => {
    try {
      const page = await get<Page<Notification>>('/api/notifications?limit=20')
      await learn(page.items)
      replace(list, ...page.items.map(item))
      if (page.items.length === 0) list.append(h('li', { class: 'empty' }, t('bell.none')))
    } catch (error) {
      replace(status, describe(error))
    }
  }
  const markOne = async (notification: Notification): Promise<void> => {
    try {
      await post(`/api/notifications/${notification.id}/read`)
      await refresh()
      // The list was drawn again without that button: keep the focus in the panel.
      ;(readAll.disabled ? button : readAll).focus()
    } catch (error) {
      replace(status, describe(error))
    }
  }
  const markAll = async (): Promise<void> => {
    try {
      await post('/api/notifications/read-all')
      await refresh()
      replace(status, t('bell.all_read'))
    } catch (error) {
      replace(status, describe(error))
    }
  }
  const close = (): void => {
    panel.hidden = true
    button.setAttribute('aria-expanded', 'false')
  }
  const toggle = async (): Promise<void> => {
    if (!panel.hidden) {
      close()
      return
    }
    panel.hidden = false
    button.setAttribute('aria-expanded', 'true')
    replace(status)
    await fill()
  }
  const onKey = (event: KeyboardEvent): void => {
    if (event.key === 'Escape' && !panel.hidden) {
      close()
      button.focus()
    }
  }
  const onClick = (event: MouseEvent): void => {
    if (!panel.hidden && !element.contains(event.target as Node)) close()
  }
  document.addEventListener('keydown', onKey)
  document.addEventListener('click', onClick)
  show(0)
  void refresh()
  return {
    element,
    event: (event) => {
      if (event.type !== 'notification') return
      const notification = (event as { notification?: Partial<Notification> }).notification
      replace(announce, t('bell.new', { actor: notification?.actor?.name ?? t('activity.someone'), title: notification?.document_title ?? '' }))
      void refresh()
    },
    destroy: () => {
      document.removeEventListener('keydown', onKey)
      document.removeEventListener('click', onClick)
    },
  }
}
