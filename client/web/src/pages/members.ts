// Members and roles. Everyone sees who is in the workspace; owners also see the controls:
// invite by e-mail or by a link to pass on, change a role, remove.
import { del, get, patch, post } from '../api'
import { confirmAction } from '../confirm'
import { field, h, replace, value } from '../dom'
import { describe } from '../errors'
import { t, type Key } from '../i18n'
import { latestOnly } from '../latest'
import { notice, showError, showInfo } from '../layout'
import { ROLES, type Member, type Page, type Role } from '../types'

function roleSelect(name: string, label: string, selected: Role): HTMLSelectElement {
  return h(
    'select',
    { name, 'aria-label': label || null },
    ...ROLES.map((role) => h('option', { value: role, selected: role === selected }, t(`role.${role}` as Key))),
  )
}

export function membersPanel(workspaceId: string, role: Role | null, selfId: string, changed: () => void): { element: HTMLElement; refresh: () => Promise<void> } {
  const owner = role === 'owner'
  const status = notice()
  const list = h('ul', { class: 'member-list', 'aria-label': t('members.list') })
  const base = `/api/workspaces/${workspaceId}/members`

  async function act(run: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await run()
      showInfo(status, done)
      await refresh()
      changed()
    } catch (error) {
      showError(status, describe(error))
    }
  }

  function row(member: Member): HTMLElement {
    const name = member.user_id === selfId ? t('members.you', { name: member.name }) : member.name
    const item = h('li', { class: 'member' }, h('span', { class: 'member-name' }, name, h('span', { class: 'muted' }, member.email)))
    if (!owner) {
      item.append(h('span', { class: 'pill' }, t(`role.${member.role}` as Key)))
      return item
    }
    const select = roleSelect('role', t('members.role_of', { name: member.name }), member.role)
    select.addEventListener('change', () =>
      void act(() => patch(`${base}/${member.user_id}`, { role: select.value }), t('members.role_changed', { name: member.name })),
    )
    item.append(
      h('span', { class: 'row-actions' }, select, h(
        'button',
        {
          type: 'button',
          class: 'quiet danger',
          'aria-label': t('members.remove_named', { name: member.name }),
          onclick: async () => {
            if (!(await confirmAction(t('members.remove_confirm', { name: member.name }), t('members.remove')))) return
            await act(() => del(`${base}/${member.user_id}`), t('members.removed', { name: member.name }))
          },
        },
        t('members.remove'),
      )),
    )
    return item
  }

  const refresh = latestOnly(
    () => get<Page<Member>>(`${base}?limit=100`),
    (page) => replace(list, ...page.items.map(row)),
  )

  const element = h('section', { class: 'card', 'aria-labelledby': 'members-heading' }, h('h2', { id: 'members-heading' }, t('members.title')), status, list)
  if (owner) element.append(inviteForm(workspaceId, status, () => void refresh().then(changed)))
  return { element, refresh }
}

function inviteForm(workspaceId: string, status: HTMLElement, changed: () => void): HTMLElement {
  const result = h('div', { class: 'invite-result' })
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (event) => {
        event.preventDefault()
        const email = value(form, 'email').trim()
        const role = value(form, 'role')
        try {
          // An existing account joins at once; anyone else gets a link to pass on.
          if (email) {
            try {
              await post(`/api/workspaces/${workspaceId}/members`, { email, role })
              showInfo(status, t('members.added', { email }))
              replace(result)
              form.reset()
              changed()
              return
            } catch (error) {
              if (!(error instanceof Error) || !('status' in error) || (error as { status: number }).status !== 404) throw error
            }
          }
          const invitation = await post<{ token: string }>(`/api/workspaces/${workspaceId}/invitations`, email ? { email, role } : { role })
          const link = `${location.origin}/invite/${invitation.token}`
          const output = h('input', { readonly: true, value: link, 'aria-label': t('members.invite_link') })
          const copy = h(
            'button',
            {
              type: 'button',
              onclick: async () => {
                try {
                  await navigator.clipboard.writeText(link)
                  showInfo(status, t('members.copied'))
                } catch {
                  output.select()
                  showInfo(status, t('members.copy_manually'))
                }
              },
            },
            t('members.copy'),
          )
          replace(result, h('p', {}, t('members.link_ready')), h('div', { class: 'inline-form' }, output, copy))
          replace(status)
          changed()
        } catch (error) {
          showError(status, describe(error))
        }
      },
    },
    h('h3', {}, t('members.invite')),
    field(t('members.invite_email'), h('input', { name: 'email', type: 'email', autocomplete: 'off' })),
    field(t('members.invite_role'), roleSelect('role', '', 'editor')),
    h('button', { type: 'submit' }, t('members.invite_submit')),
  )
  return h('div', { class: 'invite' }, form, result)
}
