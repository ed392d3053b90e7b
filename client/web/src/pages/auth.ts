// Sign in and register. After either, the person goes where they were going (?next=).
import { post } from '../api'
import { h, field, value } from '../dom'
import { describe } from '../errors'
import { t } from '../i18n'
import { notice, shell, showError, title } from '../layout'
import { navigate } from '../router'
import { signedIn } from '../session'
import type { User } from '../types'

interface Session {
  user: User
}

function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next')
  return next !== null && next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

function input(name: string, type: string, autocomplete: string, extra: Record<string, string | number | boolean> = {}): HTMLInputElement {
  return h('input', { name, type, autocomplete, required: true, ...extra })
}

export async function loginPage(): Promise<void> {
  const main = shell(null)
  const status = notice()
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (event) => {
        event.preventDefault()
        try {
          const session = await post<Session>('/api/auth/login', {
            email: value(form, 'email'),
            password: value(form, 'password'),
          })
          signedIn(session.user)
          navigate(nextPath(), true)
        } catch (error) {
          showError(status, describe(error))
        }
      },
    },
    title(t('login.title')),
    field(t('field.email'), input('email', 'email', 'username')),
    field(t('field.password'), input('password', 'password', 'current-password')),
    status,
    h('button', { type: 'submit' }, t('login.submit')),
    h('p', {}, t('login.no_account'), ' ', h('a', { href: `/register${location.search}` }, t('login.register'))),
  )
  main.append(form)
}

/**
 * The registration form; with an invitation token the new account also joins its workspace.
 * Returns the form so the invitation page can embed it.
 */
export function registerForm(inviteToken: string | null, email: string | null, after: () => void): HTMLFormElement {
  const status = notice()
  const emailInput = input('email', 'email', 'email')
  if (email !== null) {
    emailInput.value = email
    emailInput.readOnly = true
  }
  const form: HTMLFormElement = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (event) => {
        event.preventDefault()
        try {
          const session = await post<Session>('/api/auth/register', {
            name: value(form, 'name'),
            email: value(form, 'email'),
            password: value(form, 'password'),
            ...(inviteToken === null ? {} : { invite_token: inviteToken }),
          })
          signedIn(session.user)
          after()
        } catch (error) {
          showError(status, describe(error))
        }
      },
    },
    field(t('field.name'), input('name', 'text', 'name')),
    field(t('field.email'), emailInput),
    field(t('field.password'), input('password', 'password', 'new-password', { minlength: 8 })),
    h('p', { class: 'hint' }, t('register.password_hint')),
    status,
    h('button', { type: 'submit' }, t('register.submit')),
  )
  return form
}

export async function registerPage(): Promise<void> {
  const main = shell(null)
  main.append(
    h(
      'section',
      { class: 'card narrow' },
      title(t('register.title')),
      registerForm(null, null, () => navigate(nextPath(), true)),
      h('p', {}, t('register.have_account'), ' ', h('a', { href: `/login${location.search}` }, t('register.login'))),
    ),
  )
}
