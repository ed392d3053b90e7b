// Accepting an invitation link: signed in, one click; otherwise register with it (which joins
// the workspace too) or sign in and come back.
import { get, post } from '../api'
import { h } from '../dom'
import { describe } from '../errors'
import { t, type Key } from '../i18n'
import { notice, shell, showError, title } from '../layout'
import { navigate } from '../router'
import { me } from '../session'
import type { InvitationPreview, Workspace } from '../types'
import { registerForm } from './auth'

export async function invitePage([token = '']: string[]): Promise<void> {
  const user = await me()
  const main = shell(user)
  const status = notice()
  const card = h('section', { class: 'card narrow' })
  main.append(card)
  let invitation: InvitationPreview
  try {
    invitation = await get<InvitationPreview>(`/api/invitations/${encodeURIComponent(token)}`)
  } catch (error) {
    card.append(title(t('invite.title')), status)
    showError(status, describe(error))
    return
  }
  const role = t(`role.${invitation.role}` as Key)
  card.append(
    title(t('invite.title')),
    h('p', { class: 'lead' }, t('invite.offer', { workspace: invitation.workspace_name, role })),
  )
  if (invitation.status !== 'pending') {
    card.append(h('p', { class: 'notice error' }, t(`invite.${invitation.status}` as Key)))
    return
  }
  const land = (): void => navigate(`/w/${invitation.workspace_id}`, true)
  if (user) {
    card.append(
      status,
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            try {
              await post<{ workspace: Workspace }>(`/api/invitations/${encodeURIComponent(token)}/accept`)
              land()
            } catch (error) {
              showError(status, describe(error))
            }
          },
        },
        t('invite.accept'),
      ),
    )
    return
  }
  const next = encodeURIComponent(location.pathname)
  card.append(
    h('h2', {}, t('invite.register')),
    registerForm(token, invitation.email, land),
    h('p', {}, t('invite.have_account'), ' ', h('a', { href: `/login?next=${next}` }, t('register.login'))),
  )
}
