// "/": my workspaces, a form to create one, and the notification bell.
import { get, post } from '../api'
import { field, h, value } from '../dom'
import { describe } from '../errors'
import { t, type Key } from '../i18n'
import { notice, shell, showError, title } from '../layout'
import { notificationBell } from '../notifications'
import { navigate } from '../router'
import { me } from '../session'
import type { Page, Workspace } from '../types'

export async function homePage(): Promise<(() => void) | void> {
  const user = await me()
  if (!user) {
    navigate('/login', true)
    return
  }
  const bell = notificationBell(user)
  const main = shell(user, bell.element)
  const list = h('ul', { class: 'cards', 'aria-label': t('home.workspaces') })
  const status = notice()
  const form = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (event) => {
        event.preventDefault()
        try {
          const workspace = await post<Workspace>('/api/workspaces', { name: value(form, 'name') })
          navigate(`/w/${workspace.id}`)
        } catch (error) {
          showError(status, describe(error))
        }
      },
    },
    field(t('home.new_name'), h('input', { name: 'name', required: true, autocomplete: 'off' })),
    h('button', { type: 'submit' }, t('home.create')),
  )
  main.append(
    title(t('home.title')),
    h('section', { class: 'card' }, h('h2', {}, t('home.create_heading')), form, status),
    h('h2', {}, t('home.workspaces')),
    list,
  )
  try {
    const page = await get<Page<Workspace>>('/api/workspaces?limit=100')
    if (page.items.length === 0) list.append(h('li', { class: 'empty' }, t('home.none')))
    for (const workspace of page.items) {
      list.append(
        h(
          'li',
          { class: 'card link-card' },
          h('a', { href: `/w/${workspace.id}` }, workspace.name),
          workspace.role ? h('span', { class: 'pill' }, t(`role.${workspace.role}` as Key)) : null,
          workspace.description ? h('p', {}, workspace.description) : null,
        ),
      )
    }
  } catch (error) {
    showError(status, describe(error))
  }
  return () => bell.destroy()
}
