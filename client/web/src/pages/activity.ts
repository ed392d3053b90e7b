// The workspace's activity feed, newest first; the workspace page adds entries as they happen.
import { get } from '../api'
import { h, replace } from '../dom'
import { lookup, t, when } from '../i18n'
import { latestOnly } from '../latest'
import type { Activity, Page } from '../types'

function sentence(entry: Activity): string {
  const actor = entry.actor?.name ?? t('activity.someone')
  const data = entry.data
  const object = String(data.title ?? data.name ?? '')
  const role = typeof data.role === 'string' ? (lookup(`role.${data.role}`) ?? data.role) : ''
  const text = lookup(`activity.${entry.verb}`) ?? t('activity.other', { verb: entry.verb })
  return text.replace('{actor}', actor).replace('{object}', object).replace('{role}', role)
}

export function activityPanel(workspaceId: string): { element: HTMLElement; refresh: () => Promise<void> } {
  const list = h('ol', { class: 'feed', 'aria-label': t('activity.title'), 'aria-live': 'polite' })

  function item(entry: Activity): HTMLElement {
    return h('li', {}, h('span', {}, sentence(entry)), h('time', { datetime: entry.created_at, class: 'muted' }, when(entry.created_at)))
  }

  const refresh = latestOnly(
    () => get<Page<Activity>>(`/api/workspaces/${workspaceId}/activity?limit=30`),
    (page) => replace(list, ...(page.items.length ? page.items.map(item) : [h('li', { class: 'empty' }, t('activity.none'))])),
  )

  const element = h('section', { class: 'card', 'aria-labelledby': 'activity-heading' }, h('h2', { id: 'activity-heading' }, t('activity.title')), list)
  return { element, refresh }
}
